"""`python -m lab demo` (make demo): zero to a verified TLS InfluxDB, Telegraf on HTTPS.

Safe to run again, and safe to interrupt. A second run reuses the CA, the
certificate, the data volume and a healthy server, and says so. A run only
ever removes what that same run created (after a failure or Ctrl-C); an
existing demo it cannot reuse is refused and left as it is. One run at a
time (a lock). The CA is never replaced without --force. `make down`
removes the demo's containers and data volume; its certificate files stay.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import signal
import socket
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.image import CERT_MOUNT, PORT, image_ref
from lab.server import OWNER_LABEL, TLSInfluxd, docker_client, docker_errors
from runbook.checks.telegraf import render_output
from runbook.client import InfluxClient
from runbook.errors import (
    CannotWrite,
    DemoConflict,
    DockerUnavailable,
    InputError,
    RunbookError,
    ServerError,
)
from runbook.files import read_input, write_private, write_public
from runbook.poll import poll_until
from runbook.render import Progress
from runbook.tls import certs
from runbook.tls.probe import probe

ORG, BUCKET = "runbook", "telegraf"
STATE_MODE = 0o700  # holds the CA key and the operator token
TLS_MODE = 0o755  # mounted into influxd's container: uid 1000 must enter it
DEMO_ID_ENV = "RUNBOOK_DEMO_ID"  # another demo beside the default one (the tests use it)


@dataclass(frozen=True)
class Names:
    """What a demo's Docker objects are called; the label finds them for `down`."""

    owner: str = "demo"
    influxd: str = "runbook-demo-influxd"
    telegraf: str = "runbook-demo-telegraf"
    volume: str = "runbook-demo-data"

    @classmethod
    def current(cls) -> Names:
        demo_id = os.environ.get(DEMO_ID_ENV, "")
        if not demo_id:
            return cls()
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,40}", demo_id):
            raise InputError(f"{DEMO_ID_ENV}={demo_id[:60]!r} is not a valid demo id",
                             fix="use lower-case letters, digits and hyphens")
        return cls(demo_id, f"{demo_id}-influxd", f"{demo_id}-telegraf", f"{demo_id}-data")


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


@dataclass
class _Created:
    """What this run made, so that a failed or interrupted run removes that and nothing else."""

    containers: list[str] = field(default_factory=list)
    volume: str | None = None

    def undo(self) -> list[str]:
        removed: list[str] = []
        client = docker_client()
        for name in reversed(self.containers):
            with contextlib.suppress(*docker_errors()):
                client.containers.get(name).remove(force=True, v=True)
                removed.append(f"container {name}")
        if self.volume:
            with contextlib.suppress(*docker_errors()):
                client.volumes.get(self.volume).remove()
                removed.append(f"volume {self.volume}")
        return removed


def free_port(preferred: int) -> int | None:
    """`preferred` if a server could listen on it now, else None.

    SO_REUSEADDR, as Docker's port proxy sets it: sockets in TIME_WAIT (a
    demo just stopped) do not hold the port; a listener does.
    """
    with contextlib.closing(socket.socket()) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", preferred))
            s.listen()
            return preferred
        except OSError:
            return None


@contextlib.contextmanager
def _one_run_at_a_time(names: Names) -> Iterator[None]:
    lock = Path(tempfile.gettempdir()) / f"runbook-{names.owner}.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DemoConflict("another demo (make demo) is running on this machine",
                               fix="wait for it to finish, then run this again",
                               lock=str(lock)) from None
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def _no_interrupts() -> Iterator[None]:
    """Hold SIGINT back while cleaning up, so a second Ctrl-C cannot cut it short."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _make_folder(path: Path, mode: int) -> None:
    """Create `path` with `mode` (umask aside); an existing folder keeps its own mode."""
    if path.is_dir():
        return
    try:
        path.mkdir(mode=mode)
        os.chmod(path, mode)
    except FileNotFoundError:
        raise CannotWrite(f"cannot create {path}: its parent folder does not exist",
                          fix=f"create it first: mkdir -p {path.parent}", path=str(path)) from None
    except OSError as exc:
        raise CannotWrite(f"cannot create the state folder {path}: {exc.strerror or exc}",
                          fix="choose a writable --state folder", path=str(path)) from None


def ensure_certs(state: Path, *, force: bool = False, progress: Progress = print) -> Path:
    """A local CA and a server certificate for localhost; existing ones are reused.

    An existing CA is replaced only with `force`; a CA that cannot sign (or a
    half-present one) is refused, never overwritten.
    """
    tls = state / "tls"
    _make_folder(tls, TLS_MODE)
    ca_crt, ca_key = tls / "ca.crt", tls / "ca.key"
    have_ca = [p.name for p in (ca_crt, ca_key) if p.exists()]
    if force or not have_ca:
        ca = certs.CA.create("runbook demo CA")
        ca.write(ca_crt, ca_key, overwrite=force)
        certs.write_server_dir(tls, ca.issue(["localhost", "127.0.0.1"]), overwrite=True)
        progress(f"  certificates: created a {'new ' if force else ''}local CA and a server "
            f"certificate in {tls}")
        return tls
    if len(have_ca) == 1:
        raise InputError(f"{tls} holds {have_ca[0]} without its pair",
                         fix="restore the missing file, or pass --force to make a new CA "
                             "(clients must then trust the new ca.crt)", path=str(tls))
    try:
        ca = certs.CA.load(ca_crt, ca_key)
    except RunbookError as exc:
        raise InputError(f"the demo's CA cannot be used: {exc.message}",
                         fix="pass --force to make a new CA (clients must then trust the new "
                             "ca.crt)", path=str(ca_crt)) from exc
    if (tls / "server.crt").exists() and (tls / "server.key").exists():
        progress(f"  certificates: already in {tls}")
        return tls
    certs.write_server_dir(tls, ca.issue(["localhost", "127.0.0.1"]), overwrite=True)
    progress(f"  certificates: reused the CA in {tls}; issued a new server certificate")
    return tls


def _mounted_cert_dir(container: Any) -> Path | None:
    for mount in container.attrs.get("Mounts", []):
        if mount.get("Destination") == CERT_MOUNT:
            return Path(mount.get("Source", ""))
    return None


def _existing_demo(client: Any, names: Names, tls: Path, force: bool) -> Any | None:
    """The demo's influxd container if it is this state folder's; None if there is none.

    One from another state folder, or any with --force, is refused with
    DemoConflict (before any file is touched) and left exactly as it is.
    """
    found = client.containers.list(all=True, filters={"name": f"^/{names.influxd}$"})
    if not found:
        return None
    container = found[0]
    mounted = _mounted_cert_dir(container)
    if mounted != tls:
        state = mounted.parent if mounted else "an unknown folder"
        raise DemoConflict(f"a demo from another state folder ({state}) exists: container "
                           f"{names.influxd}; it is left as it is",
                           fix=f"reuse it: python -m lab demo --state {state}; or remove it first "
                               "with `make down` (that deletes its data volume)")
    if force:
        raise DemoConflict(f"--force would replace the certificates of the demo that runs from "
                           f"{tls.parent}; nothing was changed",
                           fix="run `make down` first, or drop --force")
    return container


def _reuse(container: Any, names: Names, tls: Path, progress: Progress) -> TLSInfluxd:
    """The existing demo server, started again if it had stopped; refused if it does not verify."""
    try:
        if container.status != "running":
            progress(f"  influxd: container {names.influxd} exists but is {container.status}; "
                "starting it")
            container.start()
        container.reload()
        binding = container.attrs["NetworkSettings"]["Ports"].get(f"{PORT}/tcp") or []
    except docker_errors() as exc:
        raise DemoConflict(f"the existing demo container {names.influxd} cannot be started: "
                           f"{exc}; it is left as it is",
                           fix=f"docker logs {names.influxd}; `make down` to start over") from exc
    if not binding:
        raise DemoConflict(f"the demo container {names.influxd} publishes no port; it is left "
                           "as it is", fix="inspect it (docker logs), or `make down` to start over")
    server = TLSInfluxd(cert_dir=tls, ca_file=tls / "ca.crt",
                        host_port=int(binding[0]["HostPort"]), owner=names.owner,
                        strict_ciphers=True, volume=names.volume, name=names.influxd)
    server.container = container
    try:
        server.wait_ready(timeout=60)
    except RunbookError as exc:
        raise DemoConflict(f"the existing demo at {server.url} does not verify: "
                           f"{exc.message.splitlines()[0]}; it is left as it is",
                           fix=f"docker logs {names.influxd}; `make down` to start over") from exc
    progress(f"  influxd: already running at {server.url}")
    return server


def ensure_server(client: Any, names: Names, tls: Path, created: _Created, *,
                  existing: Any | None, progress: Progress) -> TLSInfluxd:
    if existing is not None:
        return _reuse(existing, names, tls, progress)
    if not client.volumes.list(filters={"name": f"^{names.volume}$"}):
        created.volume = names.volume
    else:
        progress(f"  data: reusing the volume {names.volume}")
    server = TLSInfluxd(cert_dir=tls, ca_file=tls / "ca.crt", host_port=free_port(PORT),
                        owner=names.owner, min_version="1.2", strict_ciphers=True,
                        volume=names.volume, name=names.influxd)
    progress("  influxd: starting (TLS 1.2 minimum, strict ciphers); waiting for a verified ping")
    created.containers.append(names.influxd)  # before the call: Ctrl-C may land inside it
    server.start(timeout=90)
    progress(f"  influxd: ready at {server.url}")
    return server


def ensure_token(server: TLSInfluxd, state: Path, names: Names, progress: Progress) -> str:
    token_file = state / "token"
    allowed = server.client().request("GET", "/api/v2/setup").json().get("allowed")
    if not allowed and token_file.exists():
        progress("  onboarding: already done")
        return read_input(token_file, "token file").decode(errors="replace").strip()
    if not allowed:
        raise ServerError(f"the demo volume {names.volume} was onboarded but {token_file} is gone",
                          fix="run `make down` to start over (that deletes its data)")
    token = server.onboard(org=ORG, bucket=BUCKET)
    write_private(token_file, token.encode() + b"\n", overwrite=True)
    progress(f"  onboarding: org {ORG!r}, bucket {BUCKET!r} over verified HTTPS; token in "
        f"{token_file}")
    return token


def ensure_telegraf(client: Any, server: TLSInfluxd, names: Names, tls: Path, token: str,
                    created: _Created, progress: Progress) -> None:
    found = client.containers.list(all=True, filters={"name": f"^/{names.telegraf}$"})
    if found:
        telegraf = found[0]
        if telegraf.attrs["HostConfig"]["NetworkMode"] != f"container:{server.container.id}":
            raise DemoConflict(f"container {names.telegraf} belongs to another influxd; it is "
                               "left as it is", fix="`make down` to start over")
        if telegraf.status != "running":
            telegraf.start()
            progress("  telegraf: started again")
        else:
            progress("  telegraf: already running")
        return
    conf = tls.parent / "telegraf.conf"
    body = render_output(f"https://localhost:{PORT}", org=ORG, bucket=BUCKET,
                         ca_file="/etc/telegraf/tls/ca.crt")
    write_public(conf, ('[agent]\n  interval = "2s"\n  flush_interval = "2s"\n\n'
                        "[[inputs.cpu]]\n[[inputs.mem]]\n[[inputs.system]]\n\n" + body).encode(),
                 overwrite=True)
    # Telegraf shares influxd's network namespace, so https://localhost:8086
    # is the server and the certificate's name verifies.
    created.containers.append(names.telegraf)
    client.containers.run(
        image_ref(), command=["telegraf", "--config", "/etc/telegraf/telegraf.conf"],
        detach=True, name=names.telegraf, labels={OWNER_LABEL: names.owner},
        network_mode=f"container:{server.container.id}",
        environment={"INFLUX_TOKEN": token},
        volumes={str(conf): {"bind": "/etc/telegraf/telegraf.conf", "mode": "ro"},
                 str(tls / "ca.crt"): {"bind": "/etc/telegraf/tls/ca.crt", "mode": "ro"}},
    )
    progress(f"  telegraf: started, writing to https://localhost:{PORT} with tls_ca")


def points_last_minute(client: InfluxClient) -> int:
    rows = client.query(f'from(bucket: "{BUCKET}") |> range(start: -1m, stop: 1m) |> count() '
                        "|> group() |> sum()", org=ORG)
    return int(rows[0]["_value"]) if rows else 0


def run(state: Path, *, force: bool = False, progress: Progress = print) -> DemoReport:
    """Bring the demo up; if a step fails or is interrupted, remove only what this run made."""
    names = Names.current()
    client = docker_client()  # no engine: fail before touching disk
    with _one_run_at_a_time(names):
        created = _Created()
        try:
            return _run(state, client, names, created, force=force, progress=progress)
        except BaseException:
            with _no_interrupts():
                for what in created.undo():
                    progress(f"  cleaned up after the failure: {what} (made by this run)")
            raise


def _run(state: Path, client: Any, names: Names, created: _Created, *, force: bool,
         progress: Progress) -> DemoReport:
    started = time.monotonic()
    state = state.resolve()
    try:
        client.images.get(image_ref())
    except docker_errors() as exc:
        raise DockerUnavailable(f"image {image_ref()} is missing",
                                fix="build it: make demo-image") from exc
    existing = _existing_demo(client, names, state / "tls", force)
    _make_folder(state, STATE_MODE)
    progress(f"demo: image {image_ref()}")
    tls = ensure_certs(state, force=force, progress=progress)
    server = ensure_server(client, names, tls, created, existing=existing, progress=progress)
    token = ensure_token(server, state, names, progress)
    ensure_telegraf(client, server, names, tls, token, created, progress)
    influx = server.client(token)
    progress("  verifying: waiting for Telegraf's first points")
    points = poll_until(lambda: points_last_minute(influx), what="points from Telegraf",
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
    names = Names.current()
    client = docker_client()
    removed = []
    for c in client.containers.list(all=True, filters={"label": f"{OWNER_LABEL}={names.owner}"}):
        c.remove(force=True, v=True)
        removed.append(f"container {c.name}")
    with contextlib.suppress(*docker_errors()):
        client.volumes.get(names.volume).remove(force=True)
        removed.append(f"volume {names.volume}")
    return removed
