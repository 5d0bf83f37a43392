"""Nothing is lost when a server moves from HTTP to HTTPS, or when its
certificate is rotated while Telegraf writes (real influxd, real Telegraf)."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from harness.container_exec import run_in
from lab.server import OWNER_LABEL, TLSInfluxd, docker_client
from runbook.client import InfluxClient
from runbook.facts import INFLUXDB_GID, INFLUXDB_UID
from runbook.poll import poll_until
from runbook.tls import certs
from tests.telegraf_counting import counting_config

pytestmark = pytest.mark.server
ORG, BUCKET, TOKEN = "acme", "metrics", "integration-test-token"


@pytest.fixture
def volume():
    name = f"runbook-test-{os.getpid()}-{time.monotonic_ns()}"
    yield name
    client = docker_client()
    for c in client.containers.list(all=True, filters={"volume": name}):
        c.remove(force=True, v=True)
    client.volumes.get(name).remove(force=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def count(client: InfluxClient, flux_filter: str) -> int:
    # stop in the future: Telegraf stamps a collection with its next interval tick.
    rows = client.query(f'from(bucket: "{BUCKET}") |> range(start: -1h, stop: 1h) '
                        f"|> filter(fn: (r) => {flux_filter}) |> count() |> group() |> sum()",
                        org=ORG)
    return int(rows[0]["_value"]) if rows else 0


def test_switching_http_to_https_keeps_every_point(runbook_image, cert_dir, local_ca, volume):
    d = certs.write_server_dir(cert_dir, local_ca.issue(), local_ca)
    with TLSInfluxd(tls=False, volume=volume, owner="pytest") as plain:
        # The server as operators have it before the switch: onboarded over HTTP.
        plain.client().setup(org=ORG, bucket=BUCKET, username="admin", password="password123",
                             token=TOKEN)
        lines = "\n".join(f"reading,sensor=s{i % 7} value={i} {1_700_000_000 + i}"
                          for i in range(5000))
        plain.client(TOKEN).write(lines, org=ORG, bucket=BUCKET, precision="s")
        before = plain.client(TOKEN).query(
            f'from(bucket: "{BUCKET}") |> range(start: 0) |> count() |> group() |> sum()',
            org=ORG)
    with TLSInfluxd(cert_dir=d, ca_file=d / "ca.crt", volume=volume, owner="pytest") as tls:
        after = tls.client(TOKEN).query(
            f'from(bucket: "{BUCKET}") |> range(start: 0) |> count() |> group() |> sum()',
            org=ORG)
    assert int(before[0]["_value"]) == int(after[0]["_value"]) == 5000


def test_rotating_the_certificate_loses_no_telegraf_point(runbook_image, cert_dir, local_ca,
                                                          volume, tmp_path):
    d = certs.write_server_dir(cert_dir, local_ca.issue(), local_ca)
    port = free_port()
    server = TLSInfluxd(cert_dir=d, ca_file=d / "ca.crt", volume=volume, host_port=port,
                        owner="pytest").start()
    telegraf = None
    try:
        server.onboard(org=ORG, bucket=BUCKET, token=TOKEN)
        out = Path(cert_dir) / "telegraf-out"
        out.mkdir()
        (out / "telegraf.conf").write_text(counting_config(
            f"https://localhost:{port}", token=TOKEN, org=ORG, bucket=BUCKET,
            out_file="/out/metrics.lp", tls_ca="/tls/ca.crt"))
        telegraf = docker_client().containers.run(
            runbook_image, ["telegraf", "--config", "/out/telegraf.conf"], detach=True,
            network_mode="host", labels={OWNER_LABEL: "pytest"},
            volumes={str(out): {"bind": "/out", "mode": "rw"},
                     str(d): {"bind": "/tls", "mode": "ro"}})
        client = server.client(TOKEN)
        used = 'r._measurement == "mem" and r._field == "used"'
        poll_until(lambda: count(client, used) >= 3, what="Telegraf's first writes", timeout=30)
        old_serial = run_in(server.container, ["openssl", "x509", "-noout", "-serial", "-in",
                                         "/etc/ssl/influxdb/server.crt"]).stdout

        # Rotate: new certificate from the same CA, replaced atomically; restart influxd.
        local_ca.issue().write(d / "server.crt", d / "server.key", overwrite=True)
        os.chown(d / "server.key", INFLUXDB_UID, INFLUXDB_GID)
        server.stop()
        # Keep influxd down until Telegraf has failed a write: it must buffer.
        poll_until(lambda: b"E! [outputs.influxdb_v2]" in telegraf.logs(),
                   what="Telegraf's failed write while influxd is down", timeout=30)
        server = TLSInfluxd(cert_dir=d, ca_file=d / "ca.crt", volume=volume, host_port=port,
                            owner="pytest").start()
        client = server.client(TOKEN)
        new_serial = run_in(server.container, ["openssl", "x509", "-noout", "-serial", "-in",
                                         "/etc/ssl/influxdb/server.crt"]).stdout
        assert new_serial.startswith("serial=") and new_serial != old_serial
        stored_at_restart = count(client, used)
        poll_until(lambda: count(client, used) >= stored_at_restart + 3,
                   what="Telegraf's writes after the restart", timeout=30)

        telegraf.stop(timeout=30)  # SIGTERM: Telegraf flushes its buffer, then exits
        assert telegraf.wait(timeout=30)["StatusCode"] == 0
        produced = sum(1 for line in (out / "metrics.lp").read_text().splitlines()
                       if line.startswith("mem,"))
        assert produced >= stored_at_restart + 3  # points on both sides of the restart
        assert count(client, used) == produced
    finally:
        if telegraf is not None:
            telegraf.remove(force=True, v=True)
        server.stop()
