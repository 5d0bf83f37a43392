"""The runbook image keeps the official influxdb:2.x conventions."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.container_exec import run_in
from lab.server import CERT_MOUNT, OWNER_LABEL, docker_client
from runbook.client import InfluxClient
from runbook.poll import poll_until
from runbook.tls import certs

pytestmark = pytest.mark.server


def run(image: str, *cmd: str) -> str:
    """Output of a one-off container; removed with its anonymous volumes."""
    container = docker_client().containers.run(image, list(cmd), detach=True,
                                               labels={OWNER_LABEL: "pytest"})
    try:
        container.wait(timeout=60)
        return container.logs().decode()
    finally:
        container.remove(force=True, v=True)


def test_pinned_versions_are_what_the_binaries_report(runbook_image):
    assert run(runbook_image, "influxd", "version").startswith("InfluxDB 2.9.1 ")
    assert run(runbook_image, "telegraf", "--version").strip() == "Telegraf 1.39.3"
    # The influx CLI is the commit influxd v2.9.1's go.mod pins, stamped.
    cli = pinned("INFLUX_CLI_VERSION").removeprefix("v")
    assert run(runbook_image, "influx", "version").startswith(f"Influx CLI {cli} (git: ")


def pinned(name: str) -> str:
    for line in (Path(__file__).parents[2] / "versions.env").read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.split("=", 1)[1]
    raise KeyError(name)


def test_influxd_runs_as_uid_1000_with_the_official_paths(runbook_image):
    assert run(runbook_image, "id", "influxdb").startswith("uid=1000(influxdb) gid=1000(influxdb)")
    env = run(runbook_image, "env")
    assert "INFLUXD_BOLT_PATH=/var/lib/influxdb2/influxd.bolt" in env


def test_init_mode_onboards_and_flags_after_the_image_go_to_influxd(runbook_image, cert_dir,
                                                                     local_ca):
    d = certs.write_server_dir(cert_dir, local_ca.issue(), local_ca)
    container = docker_client().containers.run(
        runbook_image,
        [f"--tls-cert={CERT_MOUNT}/server.crt", f"--tls-key={CERT_MOUNT}/server.key"],
        detach=True, labels={OWNER_LABEL: "pytest"}, ports={"8086/tcp": ("127.0.0.1", None)},
        volumes={str(d): {"bind": CERT_MOUNT, "mode": "ro"}},
        environment={"DOCKER_INFLUXDB_INIT_MODE": "setup",
                     "DOCKER_INFLUXDB_INIT_USERNAME": "admin",
                     "DOCKER_INFLUXDB_INIT_PASSWORD": "password123",
                     "DOCKER_INFLUXDB_INIT_ORG": "acme", "DOCKER_INFLUXDB_INIT_BUCKET": "b",
                     "DOCKER_INFLUXDB_INIT_ADMIN_TOKEN": "init-token"})
    try:
        container.reload()
        port = container.attrs["NetworkSettings"]["Ports"]["8086/tcp"][0]["HostPort"]
        client = InfluxClient(f"https://localhost:{port}", token="init-token",
                              ca_file=str(d / "ca.crt"))
        poll_until(client.ping, what="the initialised server's verified ping", timeout=60,
                   on_timeout=lambda: container.logs().decode()[-2000:])
        client.write("m v=1", org="acme", bucket="b")
        assert client.request("GET", "/api/v2/setup").json() == {"allowed": False}
        setup_log = run_in(container, ["cat", "/tmp/influxd-setup.log"]).stdout
        assert "transport=https addr=127.0.0.1:9999" in setup_log  # loopback only, over TLS
    finally:
        container.remove(force=True, v=True)
