"""A wildcard by DNS-01 on two servers, as acme.md's last section tells a
reader with the wildcard page's `eu.` and `us.` servers: two package hosts on
one network, each with its own certbot, its own copy of the DNS hooks and its
own deploy hook (`runbook deploy-hook --host eu.…` / `us.…`); one ACME CA
(Pebble on eu, reachable as acme.example.test) and one DNS server for the
challenges (pebble-challtestsrv, whose API the hooks call). Each server ends
up serving its own wildcard certificate, verified by the other for its own
name through the system trust store."""

from __future__ import annotations

import secrets

import docker
import pytest

from harness.hosts.package import host as host_package
from lab.server import OWNER_LABEL, docker_client
from tests.acme_host import sh

pytestmark = pytest.mark.server

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
DOMAIN = "influxdb.example.test"
ACME = "acme.example.test"
SERVERS = ("eu", "us")
CA_FILES = ("/usr/local/share/ca-certificates/pebble-api-ca.crt",
            "/usr/local/share/ca-certificates/pebble-root.crt")
HOOKS = f"""cat > /usr/local/sbin/acme-dns-publish <<'EOF'
#!/bin/sh
curl --silent --show-error --fail -X POST http://{ACME}:8055/set-txt \\
  -d "{{\\"host\\": \\"_acme-challenge.$CERTBOT_DOMAIN.\\", \\
\\"value\\": \\"$CERTBOT_VALIDATION\\"}}"
EOF
cat > /usr/local/sbin/acme-dns-remove <<'EOF'
#!/bin/sh
curl --silent --show-error --fail -X POST http://{ACME}:8055/clear-txt \\
  -d "{{\\"host\\": \\"_acme-challenge.$CERTBOT_DOMAIN.\\"}}"
EOF
chmod 755 /usr/local/sbin/acme-dns-publish /usr/local/sbin/acme-dns-remove
mkdir -p /etc/ssl/influxdb && cat >> /etc/influxdb/config.toml <<'EOF'
tls-cert = "/etc/ssl/influxdb/server.crt"
tls-key = "/etc/ssl/influxdb/server.key"
EOF"""


def certonly(server: str) -> str:
    return (f"certbot certonly --manual --preferred-challenges dns --non-interactive "
            f"--agree-tos --email ops@example.test --cert-name influxdb-wildcard "
            f"--domain {DOMAIN} --domain '*.{DOMAIN}' "
            f"--manual-auth-hook /usr/local/sbin/acme-dns-publish "
            f"--manual-cleanup-hook /usr/local/sbin/acme-dns-remove "
            f"--server https://{ACME}:14000/dir "
            f"--deploy-hook 'runbook deploy-hook --host {server}.{DOMAIN}'")


def serial_seen_from(client, server: str) -> str:
    """The serial `server` presents to `client`, over a handshake `client`
    verifies for the server's own name with its system trust store."""
    name = f"{server}.{DOMAIN}"
    return sh(client, f"openssl s_client -connect {name}:8086 -servername {name} "
                      f"-verify_hostname {name} -verify_return_error </dev/null 2>/dev/null "
                      "| openssl x509 -noout -serial").strip()


@pytest.fixture
def servers():
    client = docker_client()
    net = client.networks.create(f"rb-acme-two-{secrets.token_hex(4)}",
                                 labels={OWNER_LABEL: "pytest"})
    hosts: dict[str, object] = {}
    try:
        for server in SERVERS:
            aliases = [f"{server}.{DOMAIN}"] + ([ACME] if server == "eu" else [])
            kwargs = host_package.run_kwargs()
            kwargs["volumes"] = {**kwargs.get("volumes", {}),
                                 str(ROOT): {"bind": "/opt/runbook", "mode": "ro"}}
            hosts[server] = client.containers.run(
                host_package.build_image(), detach=True,
                name=f"rb-acme-{server}-{secrets.token_hex(4)}", labels={OWNER_LABEL: "pytest"},
                environment={"PYTHONPATH": "/opt/runbook"}, network=net.name,
                networking_config={net.name: docker.types.EndpointConfig(
                    client.api._version, aliases=aliases)}, **kwargs)
        for host in hosts.values():
            host_package.wait_ready(host, deadline_s=60)
        eu, us = hosts["eu"], hosts["us"]
        sh(eu, f"PEBBLE_LISTEN=0.0.0.0 PEBBLE_API_NAME={ACME} "
               "/opt/runbook/harness/page_setup/start-pebble.sh")
        # us trusts what eu's store trusts for ACME: Pebble's API CA and its root.
        for path in CA_FILES:
            pem = sh(eu, f"cat {path}")
            sh(us, f"cat > {path} <<'EOF'\n{pem}EOF")
        sh(us, "update-ca-certificates >/dev/null 2>&1")
        yield hosts
    finally:
        for host in hosts.values():
            host.remove(force=True, v=True)
        net.remove()


def test_each_server_serves_its_own_wildcard_verified_by_the_other_for_its_name(servers):
    for server, host in servers.items():
        sh(host, HOOKS)
        out = sh(host, certonly(server) + " 2>&1")
        assert "influxd serves the new certificate" in out, out
    serials = {}
    for server, host in servers.items():
        live = sh(host, "openssl x509 -in /etc/letsencrypt/live/influxdb-wildcard/cert.pem "
                        "-noout -serial -ext subjectAltName").splitlines()
        assert f"DNS:{DOMAIN}" in live[-1] and f"DNS:*.{DOMAIN}" in live[-1], live
        serials[server] = live[0]
    assert serials["eu"] != serials["us"], "two orders, two certificates"
    assert serial_seen_from(servers["us"], "eu") == serials["eu"]
    assert serial_seen_from(servers["eu"], "us") == serials["us"]
    for client, server in (("us", "eu"), ("eu", "us")):
        # Any client with the system store: no --cacert, no --insecure.
        sh(servers[client], f"curl --silent --show-error --fail "
                            f"https://{server}.{DOMAIN}:8086/health")
    print(f"eu serves {serials['eu']}, us serves {serials['us']}: both *.{DOMAIN}, "
          "each verified from the other")
