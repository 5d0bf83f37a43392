"""Certificates from an ACME CA, renewed while Telegraf writes, with nothing
lost: real certbot (Debian's), real Pebble, real influxd run by systemd on
the package host, real Telegraf writing over verified HTTPS. The deploy hook
is `runbook deploy-hook`, as on docs/acme.md (one implementation: runbook/install.py).

Counting is Telegraf's own: its outputs.file writes every point it produced;
the bucket must hold exactly as many.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from pathlib import Path

import pytest

from harness.hosts.package import host as host_package
from lab.server import OWNER_LABEL, docker_client
from runbook.poll import poll_until
from tests.acme_host import (
    NAME,
    ONBOARD,
    RENEW,
    TELEGRAF_CONF,
    TELEGRAF_OUT,
    counts_after,
    live_serial,
    served_serial,
    sh,
    stored,
    watch_renewal,
)

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
HOOK = f"runbook deploy-hook --host {NAME}"


@contextlib.contextmanager
def acme_host(*, telegraf: bool):
    """A package host with Pebble, a certificate from it installed by the hook,
    influxd on HTTPS and onboarded; with `telegraf`, Telegraf writing over
    verified HTTPS."""
    kwargs = host_package.run_kwargs()
    kwargs["volumes"] = {**kwargs.get("volumes", {}),
                         str(ROOT): {"bind": "/opt/runbook", "mode": "ro"}}
    container = docker_client().containers.run(
        host_package.build_image(), detach=True, name=f"rb-acme-{secrets.token_hex(4)}",
        labels={OWNER_LABEL: "pytest"}, environment={"PYTHONPATH": "/opt/runbook"},
        extra_hosts={NAME: "127.0.0.1"}, **kwargs)
    try:
        host_package.wait_ready(container, deadline_s=60)
        sh(container, "/opt/runbook/harness/page_setup/start-pebble.sh")
        sh(container, """mkdir -p /etc/ssl/influxdb && cat >> /etc/influxdb/config.toml <<'EOF'
tls-cert = "/etc/ssl/influxdb/server.crt"
tls-key = "/etc/ssl/influxdb/server.key"
EOF""")
        sh(container, f"certbot certonly --standalone --non-interactive --agree-tos "
                      f"--email ops@example.test --domain {NAME} "
                      f"--server https://localhost:14000/dir --deploy-hook '{HOOK}'")
        assert served_serial(container) == live_serial(container)
        sh(container, ONBOARD)
        if not telegraf:
            yield container
            return
        sh(container, f"mkdir -p {Path(TELEGRAF_OUT).parent} && cat > /etc/telegraf/acme.conf "
                      f"<<'EOF'\n{TELEGRAF_CONF}EOF\n"
                      "systemd-run --quiet --unit telegraf-acme telegraf --config "
                      "/etc/telegraf/acme.conf")
        poll_until(lambda: stored(container) >= 3, what="Telegraf's first writes over HTTPS",
                   timeout=30)
        yield container
    finally:
        container.remove(force=True, v=True)


@pytest.fixture
def host():
    with acme_host(telegraf=True) as container:
        yield container


@pytest.fixture(scope="module")
def refusing_host():
    # One host for every refusal: a refused pair changes nothing, and each
    # case asserts exactly that, so a case that did change it fails itself.
    with acme_host(telegraf=False) as container:
        yield container


def renew_and_time(host, renew: str) -> tuple[str, float, str]:
    """Start `renew` in the background; return the serial served when it changes
    (or the old one if it never does), the seconds until then, and certbot's output."""
    before = served_serial(host)
    # A transient unit, so the test can poll while certbot runs. PYTHONPATH:
    # `runbook` runs from the project mounted at /opt/runbook (docker exec
    # passes it; systemd units do not).
    sh(host, f"rm -f /root/renew.rc; systemd-run --quiet --unit certbot-renew-{time.time_ns()} "
             f"--setenv PYTHONPATH=/opt/runbook "
             f"bash -c '{renew} > /root/renew.log 2>&1; echo $? > /root/renew.rc'")
    return watch_renewal(host, before)


def stop_telegraf(host) -> None:
    """SIGTERM: Telegraf flushes what it buffered, then exits."""
    sh(host, "systemctl stop telegraf-acme")
    log = sh(host, "journalctl -u telegraf-acme --no-pager -o cat")
    assert "flushing any cached metrics before shutdown" in log, log[-2000:]
    assert "Stopping running outputs" in log, log[-2000:]


def test_forced_renewal_serves_the_new_serial_and_loses_no_telegraf_point(host):
    old = served_serial(host)
    new, seconds, log = renew_and_time(host, RENEW)
    assert "rc=0" in log, log
    assert new != old and new == live_serial(host), log
    assert "influxd serves the new certificate" in log
    # -L: server.key is a link through .live to the pair folder (runbook/pairs.py)
    key = sh(host, "stat -L -c '%U %a' /etc/ssl/influxdb/server.key").strip()
    assert key == "influxdb 600"
    at_renewal, made, kept = counts_after(host, "renewal", stop_telegraf)
    failed_writes = sh(host, "journalctl -u telegraf-acme --no-pager -o cat "
                             "| grep -c 'E! \\[outputs.influxdb_v2\\]' || true").strip()
    print(f"renewal: {old} -> {new}, new serial served {seconds:.2f}s after "
          f"`{RENEW}` started; Telegraf produced {made}, stored {kept}, failed writes "
          f"retried: {failed_writes}")
    assert made >= at_renewal + 3  # points on both sides of the restart
    assert kept == made


def test_hook_failing_half_way_serves_the_old_certificate_again_and_loses_nothing(host):
    # A restart that restarts influxd on the new pair, then reports failure
    # once (a unit that failed, then came up): the hook must roll back.
    sh(host, """cat > /usr/local/sbin/restart-fails-once <<'EOF'
#!/bin/sh
systemctl restart influxdb
if [ -e /root/fail-once ]; then rm /root/fail-once; echo 'influxdb.service failed' >&2; exit 1; fi
EOF
chmod 755 /usr/local/sbin/restart-fails-once; touch /root/fail-once""")
    old = served_serial(host)
    hook = f"{HOOK} --restart-command /usr/local/sbin/restart-fails-once"
    new, _, log = renew_and_time(host, f'{RENEW} --deploy-hook "{hook}"')
    assert "is served again" in log, log
    assert "exited 1: influxdb.service failed" in log, log
    assert new == old != live_serial(host), log  # renewed on disk, old one served
    assert sh(host, "test ! -e /root/fail-once && echo consumed").strip() == "consumed"
    # runbook probe --compare-files sees it: renewed in live/, not served.
    probe = sh(host, f"runbook probe https://{NAME}:8086 --compare-files "
                     f"/etc/letsencrypt/live/{NAME}/cert.pem", ok=False)
    assert "[served-cert-older]" in probe, probe
    _, made, kept = counts_after(host, "rollback", stop_telegraf)
    print(f"failed renewal rolled back: {old} served again (live/ holds "
          f"{live_serial(host)}); Telegraf produced {made}, stored {kept}")
    assert kept == made


@pytest.mark.parametrize("bad, finding", [
    ("mismatched pair", "key-mismatch"),
    ("encrypted key", "key-encrypted"),
    ("wrong host", "host-not-covered"),
])
def test_hook_refuses_a_bad_pair_by_name_and_influxd_keeps_serving_its_own(
        refusing_host, bad, finding):
    """certbot's real pair, spoilt one way each, handed to the hook as a lineage."""
    live = f"/etc/letsencrypt/live/{NAME}"
    spoil = {
        "mismatched pair": "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
                           "-out privkey.pem",
        "encrypted key": f"openssl pkey -in {live}/privkey.pem -aes256 -passout pass:secret "
                         "-out privkey.pem",
        "wrong host": "true",
    }[bad]
    served_before = served_serial(refusing_host)
    pair = "/etc/ssl/influxdb/server.crt /etc/ssl/influxdb/server.key"
    files_before = sh(refusing_host, f"sha256sum {pair}")
    tree_before = sh(refusing_host, "find /etc/ssl/influxdb | sort")
    out = sh(refusing_host, f"""set -e; rm -rf /root/bad; mkdir -m 700 /root/bad; cd /root/bad
cp {live}/fullchain.pem {live}/privkey.pem .
{spoil}
code=0; RENEWED_LINEAGE=/root/bad runbook deploy-hook \
  --host {'other.example.test' if bad == 'wrong host' else NAME} 2>&1 || code=$?
echo "exit $code" """)
    assert out.strip().endswith("exit 1"), out
    first = next(ln for ln in out.splitlines() if ln.startswith("ERROR:"))
    assert f"[{finding}]" in first and "The served certificate is untouched" in first, out
    assert "Traceback" not in out
    assert served_serial(refusing_host) == served_before
    assert sh(refusing_host, f"sha256sum {pair}") == files_before
    assert sh(refusing_host, "find /etc/ssl/influxdb | sort") == tree_before, (
        "a staging folder (.pairs/.new-*) or a new previous/ was left behind")
