"""A TLS influxd in Docker from the runbook image: start, wait, onboard, stop.

Readiness means a *verified* HTTPS ping (CA file and hostname), polled with
a deadline; a container that exits early fails at once with its log.
Every container carries the `runbook.owner` label, so `make down` and
the tests can find and remove what they started.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.image import CERT_MOUNT, DATA_MOUNT, INFLUXDB_UID, PORT, image_ref
from runbook.client import InfluxClient
from runbook.errors import DockerUnavailable, ServerError, ServerExited, UsageError
from runbook.files import read_obstacle, readable_fix
from runbook.poll import poll_until

__all__ = ["CERT_MOUNT", "OWNER_LABEL", "TLSInfluxd", "docker_client", "docker_errors",
           "image_ref"]

OWNER_LABEL = "runbook.owner"
MIN_VERSIONS = ("1.0", "1.1", "1.2", "1.3")
CONTAINER_PORT = f"{PORT}/tcp"


def docker_errors() -> tuple[type[BaseException], ...]:
    """What the Docker SDK raises when the engine refuses or cannot be reached."""
    import docker.errors
    import requests

    return docker.errors.DockerException, requests.RequestException, OSError


def docker_client() -> Any:
    """A Docker SDK client, or DockerUnavailable saying how to get an engine."""
    try:
        import docker
    except ImportError as exc:
        raise DockerUnavailable("the Python 'docker' package is not installed",
                                fix="pip install 'influx-tls-runbook[docker]'") from exc
    try:
        client = docker.from_env()
        client.ping()
        return client
    except docker_errors() as exc:
        raise DockerUnavailable(f"no Docker engine answers: {exc}",
                                fix="start one: sudo scripts/docker-engine.sh") from exc


@dataclass
class TLSInfluxd:
    """One influxd container. Use as a context manager, or start()/stop()."""

    cert_dir: Path | None = None
    cert: str = "server.crt"
    key: str = "server.key"
    ca_file: Path | None = None  # for verifying, on this host
    insecure: bool = False  # self-signed: skip verification when polling
    min_version: str = "1.2"
    strict_ciphers: bool = False
    tls: bool = True
    volume: str | None = None  # named volume for /var/lib/influxdb2 (kept on stop)
    host_port: int | None = None  # None: a free port chosen by Docker
    server_name: str = "localhost"
    owner: str = "runbook"
    name: str | None = None  # container name
    extra_args: list[str] = field(default_factory=list)
    container: Any = None

    def __post_init__(self) -> None:
        if self.min_version not in MIN_VERSIONS:
            raise UsageError(f"unsupported TLS version {self.min_version!r}",
                             fix=f"choose one of {', '.join(MIN_VERSIONS)}")
        if self.tls:
            if self.cert_dir is None:
                raise UsageError("a TLS server needs cert_dir", fix="pass the certificate folder")
            self.cert_dir = Path(self.cert_dir).resolve()
            for name in (self.cert, self.key):
                path = self.cert_dir / name
                if not path.is_file():
                    raise UsageError(f"{path} does not exist", fix="create the pair first: "
                                     "runbook certs ca / runbook certs self-signed")
                # influxd runs as uid 1000 in the image: a root-only key fails
                # start-up with an error that does not say why. Say it now.
                # The folder is mounted: the ones above it are not on influxd's way.
                obstacle = read_obstacle(path, INFLUXDB_UID, mounted=self.cert_dir)
                if obstacle is not None:
                    raise UsageError(f"{path} is not readable by uid {INFLUXDB_UID}, the user "
                                     f"influxd runs as: {obstacle}",
                                     fix=readable_fix(path, INFLUXDB_UID,
                                                      private=name == self.key,
                                                      mounted=self.cert_dir),
                                     path=str(path))

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.server_name}:{self.host_port}"

    def client(self, token: str | None = None) -> InfluxClient:
        return InfluxClient(self.url, token=token, insecure=self.insecure,
                            ca_file=str(self.ca_file) if self.ca_file else None)

    def influxd_args(self) -> list[str]:
        args = []
        if self.tls:
            args += [f"--tls-cert={CERT_MOUNT}/{self.cert}", f"--tls-key={CERT_MOUNT}/{self.key}",
                     f"--tls-min-version={self.min_version}"]
            if self.strict_ciphers:
                args.append("--tls-strict-ciphers")
        return args + self.extra_args

    def start(self, *, wait: bool = True, timeout: float = 60.0) -> TLSInfluxd:
        client = docker_client()
        try:
            client.images.get(image_ref())
        except docker_errors() as exc:
            raise DockerUnavailable(f"image {image_ref()} is missing",
                                    fix="build it: make images") from exc
        volumes = {}
        if self.tls:
            volumes[str(self.cert_dir)] = {"bind": CERT_MOUNT, "mode": "ro"}
        if self.volume:
            volumes[self.volume] = {"bind": DATA_MOUNT, "mode": "rw"}
        try:
            self.container = client.containers.run(
                image_ref(), command=self.influxd_args(), detach=True,
                ports={CONTAINER_PORT: ("127.0.0.1", self.host_port)},
                volumes=volumes, labels={OWNER_LABEL: self.owner}, name=self.name,
            )
        except docker_errors() as exc:
            raise ServerError(f"Docker did not start influxd: {exc}",
                              fix="read the engine's reason above (a port or name in use?)",
                              name=self.name) from exc
        try:
            self.container.reload()
            binding = self.container.attrs["NetworkSettings"]["Ports"][CONTAINER_PORT]
            self.host_port = int(binding[0]["HostPort"])
            if wait:
                self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _ready(self) -> bool:
        self.container.reload()
        if self.container.status == "exited":
            raise ServerExited(f"influxd exited while starting:\n{self.logs(tail=20)}",
                              fix="read the log above; `runbook doctor` explains its lines")
        return self.client().ping()

    def wait_ready(self, timeout: float = 60.0) -> None:
        what = f"a {'verified ' if self.tls and not self.insecure else ''}ping at {self.url}"
        poll_until(self._ready, what=what, timeout=timeout, fatal=(ServerExited,),
                   on_timeout=lambda: f"influxd log tail:\n{self.logs(tail=20)}")

    def onboard(self, *, org: str = "runbook", bucket: str = "telegraf",
                username: str = "runbook",
                password: str = "runbook-password",  # noqa: S107 - a local demo's own password
                token: str | None = None) -> str:
        """Onboard over the verified HTTPS listener; credentials never go in clear."""
        if not self.tls:
            raise UsageError("refusing to send credentials over plain HTTP",
                             fix="onboard after enabling TLS")
        return self.client().setup(org=org, bucket=bucket, username=username,
                                   password=password, token=token)

    def logs(self, tail: int | str = "all") -> str:
        if self.container is None:
            return ""
        try:
            return str(self.container.logs(tail=tail).decode(errors="replace"))
        except docker_errors():  # the container may be gone already
            return ""

    def stop(self) -> None:
        """Stop and remove the container (named data volumes are kept)."""
        if self.container is not None:
            with contextlib.suppress(*docker_errors()):  # already removed
                self.container.remove(force=True, v=True)
            self.container = None

    def __enter__(self) -> TLSInfluxd:
        return self.start() if self.container is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

