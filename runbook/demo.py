"""`runbook demo`: zero to a verified TLS InfluxDB with Telegraf writing over HTTPS.

Idempotent: a second run reuses the CA, the certificate, the data volume and
a healthy server, and says so. `runbook down` removes every container and the
volume the demo started (its certificate files stay, so clients keep
trusting the same CA).
"""

from __future__ import annotations

import contextlib
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from runbook import certs
from runbook.client import InfluxClient
from runbook.errors import ServerError
from runbook.files import write_private
from runbook.probe import probe
from runbook.server import OWNER_LABEL, TLSInfluxd, docker_client, image_ref
from runbook.telegraf import render_output
from runbook.wait import poll_until

OWNER = "demo"
VOLUME = "runbook-demo-data"
ORG, BUCKET = "runbook", "telegraf"


@dataclass
class DemoReport:
    url: str
    ca_file: Path
    token_file: Path
    tls_version: str
    cipher: str
    tls11: str
    points_last_minute: int
    seconds: float

    def lines(self) -> list[str]:
        return [
            f"URL                {self.url}",
            f"CA file to trust   {self.ca_file}",
            f"operator token     {self.token_file} (mode 0600)",
            f"negotiated         {self.tls_version}, {self.cipher}",
            f"TLS 1.1 client     {self.tls11}",
            f"points written     {self.points_last_minute} in the last minute (Telegraf, "
            "verified HTTPS)",
            f"took               {self.seconds:.1f}s",
            "",
            f"try: curl --cacert {self.ca_file} {self.url}/ping -w '%{{http_code}}\\n'",
            "stop: make down",
        ]


def _free_port(preferred: int) -> int | None:
    with contextlib.closing(socket.socket()) as s:
        try:
            s.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            return None


def _say(msg: str) -> None:
    print(msg, flush=True)


def ensure_certs(state: Path) -> Path:
    """A local CA and a server certificate for localhost, reused when present."""
    tls = state / "tls"
    tls.mkdir(parents=True, exist_ok=True)
    state.chmod(0o755)
    tls.chmod(0o755)  # influxd (uid 1000) must traverse it
    if (tls / "ca.crt").exists() and (tls / "server.crt").exists():
        _say(f"  certificates: already in {tls}")
        return tls
    ca = certs.CA.create("runbook demo CA")
    ca.write(tls / "ca.crt", tls / "ca.key", overwrite=True)
    certs.write_server_dir(tls, ca.issue(["localhost", "127.0.0.1"]), overwrite=True)
    _say(f"  certificates: created a local CA and a server certificate in {tls}")
    return tls


def _existing_server(tls: Path) -> TLSInfluxd | None:
    client = docker_client()
    found = client.containers.list(filters={"label": f"{OWNER_LABEL}={OWNER}",
                                            "name": "runbook-demo-influxd"})
    if not found:
        return None
    container = found[0]
    port = int(container.attrs["NetworkSettings"]["Ports"]["8086/tcp"][0]["HostPort"])
    server = TLSInfluxd(cert_dir=tls, ca_file=tls / "ca.crt", host_port=port, owner=OWNER,
                        strict_ciphers=True, volume=VOLUME)
    server.container = container
    try:
        if server.client().ping():
            return server
    except OSError:
        pass
    container.remove(force=True, v=True)
    return None


def ensure_server(tls: Path) -> TLSInfluxd:
    server = _existing_server(tls)
    if server is not None:
        _say(f"  influxd: already running at {server.url}")
        return server
    port = _free_port(8086)
    server = TLSInfluxd(cert_dir=tls, ca_file=tls / "ca.crt", host_port=port, owner=OWNER,
                        min_version="1.2", strict_ciphers=True, volume=VOLUME,
                        name="runbook-demo-influxd")
    _say("  influxd: starting (TLS 1.2 minimum, strict ciphers); waiting for a verified ping")
    server.start(timeout=90)
    _say(f"  influxd: ready at {server.url}")
    return server


def ensure_token(server: TLSInfluxd, state: Path) -> str:
    token_file = state / "token"
    allowed = server.client().request("GET", "/api/v2/setup").json().get("allowed")
    if not allowed and token_file.exists():
        _say("  onboarding: already done")
        return token_file.read_text().strip()
    if not allowed:
        raise ServerError(f"the demo volume {VOLUME} was onboarded but {token_file} is gone",
                          fix="run `make down` to start over")
    token = server.onboard(org=ORG, bucket=BUCKET)
    write_private(token_file, token.encode() + b"\n", overwrite=True)
    _say(f"  onboarding: org {ORG!r}, bucket {BUCKET!r} over verified HTTPS; token in "
         f"{token_file}")
    return token


def ensure_telegraf(server: TLSInfluxd, tls: Path, token: str) -> None:
    client = docker_client()
    if client.containers.list(filters={"label": f"{OWNER_LABEL}={OWNER}",
                                       "name": "runbook-demo-telegraf"}):
        _say("  telegraf: already running")
        return
    conf = tls.parent / "telegraf.conf"
    body = render_output("https://localhost:8086", org=ORG, bucket=BUCKET,
                         ca_file="/etc/telegraf/tls/ca.crt")
    conf.write_text('[agent]\n  interval = "2s"\n  flush_interval = "2s"\n\n'
                    "[[inputs.cpu]]\n[[inputs.mem]]\n[[inputs.system]]\n\n" + body)
    # Telegraf shares influxd's network namespace, so https://localhost:8086
    # is the server and the certificate's name verifies.
    client.containers.run(
        image_ref(), command=["telegraf", "--config", "/etc/telegraf/telegraf.conf"],
        detach=True, name="runbook-demo-telegraf", labels={OWNER_LABEL: OWNER},
        network_mode=f"container:{server.container.id}",
        environment={"INFLUX_TOKEN": token},
        volumes={str(conf): {"bind": "/etc/telegraf/telegraf.conf", "mode": "ro"},
                 str(tls / "ca.crt"): {"bind": "/etc/telegraf/tls/ca.crt", "mode": "ro"}},
    )
    _say("  telegraf: started, writing to https://localhost:8086 with tls_ca")


def points_last_minute(client: InfluxClient) -> int:
    rows = client.query(f'from(bucket: "{BUCKET}") |> range(start: -1m, stop: 1m) |> count() '
                        "|> group() |> sum()", org=ORG)
    return int(rows[0]["_value"]) if rows else 0


def run(state: Path) -> DemoReport:
    """Bring the demo up, or remove what this attempt started if a step fails."""
    try:
        return _run(state)
    except BaseException:
        for what in down():
            _say(f"  cleaned up after the failure: {what}")
        raise


def _run(state: Path) -> DemoReport:
    started = time.monotonic()
    state = state.resolve()
    state.mkdir(parents=True, exist_ok=True)
    _say(f"runbook demo: image {image_ref()}")
    tls = ensure_certs(state)
    server = ensure_server(tls)
    token = ensure_token(server, state)
    ensure_telegraf(server, tls, token)
    client = server.client(token)
    _say("  verifying: waiting for Telegraf's first points")
    points = poll_until(lambda: points_last_minute(client), what="points from Telegraf",
                        timeout=60)
    result = probe(server.url, ca_file=str(tls / "ca.crt"))
    if not result.verified:
        raise ServerError(f"the server did not verify: {result.verify_error}",
                          fix=f"check {tls / 'ca.crt'} against {tls / 'server.crt'}")
    return DemoReport(url=server.url, ca_file=tls / "ca.crt", token_file=state / "token",
                      tls_version=result.negotiated_version or "?", cipher=result.cipher or "?",
                      tls11=result.versions["TLSv1.1"], points_last_minute=points,
                      seconds=time.monotonic() - started)


def down() -> list[str]:
    """Remove the demo's containers and data volume; returns what was removed."""
    client = docker_client()
    removed = []
    for c in client.containers.list(all=True, filters={"label": f"{OWNER_LABEL}={OWNER}"}):
        removed.append(f"container {c.name}")
        c.remove(force=True, v=True)
    with contextlib.suppress(Exception):
        client.volumes.get(VOLUME).remove(force=True)
        removed.append(f"volume {VOLUME}")
    return removed
