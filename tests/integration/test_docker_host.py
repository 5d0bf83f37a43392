"""The Docker host runs a Docker reader's commands for real, and leaves nothing behind."""

from __future__ import annotations

import os
from pathlib import Path

import docker.errors
import pytest

from harness.container_exec import shell
from harness.hosts.docker import host as host_docker
from harness.plugin import LABEL, SESSION_ENV
from lab.server import OWNER_LABEL, docker_client
from runbook.poll import poll_until

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
SSL = "/etc/ssl/influxdb"
DOCKER_RUN = (
    "docker run -d --name {name} {ports} -v {ssl}:/etc/ssl/influxdb:ro "
    "-v {name}-data:/var/lib/influxdb2 influxdb:2.9.1 "
    "--tls-cert=/etc/ssl/influxdb/server.crt --tls-key=/etc/ssl/influxdb/server.key"
)
SELF_SIGNED = (
    "mkdir -p {ssl} && openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=localhost "
    "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 "
    "-keyout {ssl}/server.key -out {ssl}/server.crt 2>/dev/null && chmod 600 {ssl}/server.key"
)


def start_host(**overrides):
    """One host, started as the docs harness starts it (its merge of volumes
    and environment included). `overrides` replace run_kwargs entries; a None
    value removes one."""
    image = host_docker.build_image()
    kwargs = host_docker.run_kwargs()
    for key, value in overrides.items():
        if value is None:
            kwargs.pop(key, None)
        else:
            kwargs[key] = value
    volumes = {**kwargs.pop("volumes", {}), str(ROOT): {"bind": "/opt/runbook", "mode": "ro"}}
    environment = {**kwargs.pop("environment", {}), "PYTHONPATH": "/opt/runbook"}
    return docker_client().containers.run(
        image, detach=True, volumes=volumes, environment=environment,
        labels={OWNER_LABEL: "pytest", LABEL: os.environ.get(SESSION_ENV, "pytest")}, **kwargs)


def sh(container, script: str) -> tuple[int, str]:
    return shell(container, script, strict=True)


def ok(container, script: str) -> str:
    code, out = sh(container, script)
    assert code == 0, f"exit {code}:\n{script}\n{out}"
    return out


def verified_ping(container, ssl: str = SSL) -> str:
    """The status of a ping that verifies the chain and the name localhost."""
    return sh(container, f"curl -s -o /dev/null -w '%{{http_code}}' --cacert {ssl}/server.crt "
                         "https://localhost:8086/ping")[1]


@pytest.fixture(scope="module")
def host():
    container = start_host()
    try:
        host_docker.wait_ready(container, 60)
        yield container
    finally:
        container.remove(force=True, v=True)


def test_the_host_is_a_docker_readers_machine(host):
    out = ok(host, "docker images --format '{{.Repository}}:{{.Tag}}' | sort; "
                   "command -v influxd || echo no-influxd; telegraf --version; runbook --help")
    assert out.splitlines()[:4] == ["influxdb:2.9", "influxdb:2.9.1", "telegraf:1.39.3",
                                    "no-influxd"]
    assert "Telegraf 1.39.3" in out
    assert "Usage:" in out


def test_readers_tls_flow_runs_verifies_logs_and_restarts(host):
    ok(host, SELF_SIGNED.format(ssl=SSL) + f" && chown 1000:1000 {SSL}/server.key")
    ok(host, DOCKER_RUN.format(name="influxdb", ports="-p 8086:8086", ssl=SSL))
    poll_until(lambda: verified_ping(host) == "204", what="a verified HTTPS ping (204)",
               timeout=30, on_timeout=lambda: host_docker.log_tail(host))
    assert "transport=https" in ok(host, "docker logs influxdb 2>&1")
    assert "transport=https" in host_docker.log_tail(host, 5)

    ok(host, "docker restart influxdb")
    poll_until(lambda: verified_ping(host) == "204", what="the verified ping after a restart",
               timeout=30, on_timeout=lambda: host_docker.log_tail(host))
    assert ok(host, "docker logs influxdb 2>&1").count("transport=https") == 2


def test_a_root_only_key_stops_the_container_with_permission_denied(host):
    ssl = "/etc/ssl/influxdb-rootkey"
    ok(host, SELF_SIGNED.format(ssl=ssl))  # 0600 root: the guide's chmod, no chown
    ok(host, DOCKER_RUN.format(name="rootkey", ports="", ssl=ssl))
    code = ok(host, "timeout 30 docker wait rootkey").strip()
    assert code != "0"
    assert "permission denied" in ok(host, "docker logs rootkey 2>&1")


def test_a_published_port_accepts_before_influxd_listens(host):
    """Docker's userland proxy (on by default, as on a reader's machine) takes
    the connection to localhost:8086 and resets it while nothing listens in
    the container: curl --retry-connrefused gives up at once (exit 35), so a
    Docker-tab wait must retry every error (--retry-all-errors) or poll."""
    ok(host, "docker run -d --name idle -p 8087:8086 influxdb:2.9.1 sleep infinity")
    code, out = sh(host, "curl -sS -k --retry 5 --retry-delay 1 --retry-connrefused "
                         "https://localhost:8087/ping")
    assert code == 35 and out.count("curl: (35)") == 1, out  # one attempt, no retry
    code, out = sh(host, "curl -sS -k --retry 1 --retry-delay 0 --retry-all-errors "
                         "https://localhost:8087/ping")
    assert out.count("curl: (35)") == 2, out  # it tried twice: the retry covers this error
    ok(host, "docker rm -f idle")


@pytest.mark.parametrize("missing, overrides, says", [
    ("tmpfs", {"tmpfs": None}, "--tmpfs /var/lib/docker"),
    ("NET_ADMIN", {"cap_add": ["SYS_ADMIN"]}, "--cap-add NET_ADMIN"),
    ("SYS_ADMIN", {"cap_add": ["NET_ADMIN"]}, "--cap-add SYS_ADMIN"),
    ("seccomp", {"security_opt": ["apparmor=unconfined"]}, "seccomp=unconfined"),
])
def test_a_host_that_cannot_start_its_engine_fails_in_one_line(missing, overrides, says):
    container = start_host(**overrides)
    try:
        with pytest.raises(host_docker.HostNotReady) as err:
            host_docker.wait_ready(container, 30)
    finally:
        container.remove(force=True, v=True)
    message = str(err.value)
    assert "\n" not in message and says in message and "fix:" in message, message
    with pytest.raises(docker.errors.NotFound):
        docker_client().containers.get(container.id)


def test_removing_the_host_leaves_no_process_mount_or_cgroup():
    container = start_host()
    try:
        host_docker.wait_ready(container, 60)
        assert host_docker.log_tail(container) == ""  # no inner container named influxdb yet
        ok(container, "docker run -d --name leftover -v leftover-data:/data influxdb:2.9.1 "
                      "&& docker volume ls -q | grep -x leftover-data")
        inner = ok(container, "docker inspect -f '{{.State.Pid}}' leftover").strip()
        assert inner != "0"
    finally:
        container.remove(force=True, v=True)
    host_id = container.id
    mounts = Path("/proc/self/mountinfo").read_text()
    assert host_id not in mounts
    cgroup = Path("/sys/fs/cgroup")  # v1 per controller; v2 cgroupfs or systemd driver
    candidates = [*cgroup.glob(f"*/docker/{host_id}"), cgroup / "docker" / host_id,
                  cgroup / "system.slice" / f"docker-{host_id}.scope"]
    assert [p for p in candidates if p.exists()] == []
    # No process still runs in the host's cgroup (its dockerd, containerd,
    # the inner influxd): only the outer engine's dockerd is left of this host.
    leftover = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if host_id in (proc / "cgroup").read_text():
                leftover.append(proc.name)
        except OSError:
            continue
    assert leftover == []
