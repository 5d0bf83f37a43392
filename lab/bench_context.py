"""The physical context of the bench's ratios: what encryption alone can cost,
and what a new TLS 1.3 connection costs from each Debian release's client.

- `openssl speed -evp` gives this CPU's AEAD bytes per second (AES-128-GCM,
  ChaCha20-Poly1305). A byte sent over HTTPS is sealed once and opened once,
  both on this machine, so bulk encryption adds at most 2 x bytes / speed
  CPU-seconds to the plain-HTTP time: the largest cost it alone explains.
- Clients on Debian 12 (OpenSSL 3.0) and Debian 13 (OpenSSL 3.5) differ in
  their first ClientHello: 3.5 sends an ML-KEM hybrid key share. influxd
  offers neither X25519 nor ML-KEM, so both get a HelloRetryRequest. The
  handshakes run from each release's runbook image (host network), rounds
  interleaved, Python's ssl with the release's OpenSSL defaults.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.bench_stats import bootstrap, bootstrap_ratio
from lab.image import image_ref, pinned
from runbook.errors import EnvironmentProblem
from runbook.render import Progress

AEADS = ("aes-128-gcm", "chacha20-poly1305")
RECORD_BYTES = 16384  # a full TLS record: the size bulk data travels in


def aead_bytes_per_second(cipher: str, seconds: int = 1) -> float:
    """`openssl speed -evp CIPHER` on full 16 KiB records, bytes per CPU-second."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise EnvironmentProblem("openssl is not installed", fix="apt-get install openssl")
    proc = subprocess.run(  # noqa: S603 - fixed argv
        [openssl, "speed", "-evp", cipher, "-bytes", str(RECORD_BYTES), "-seconds",
         str(seconds), "-mr"], capture_output=True, text=True, timeout=60 + 10 * seconds)
    return parse_speed(proc.stdout, cipher)


def parse_speed(mr_output: str, cipher: str) -> float:
    """The bytes/s of `openssl speed -mr`'s `+F:n:NAME:BYTES_PER_S` line."""
    for line in mr_output.splitlines():
        if line.startswith("+F:"):
            return float(line.rsplit(":", 1)[1])
    raise EnvironmentProblem(f"openssl speed printed no result for {cipher}",
                             fix="run: openssl speed -evp " + cipher)


def encryption_bound(bytes_per_second: float, aead_speed: float) -> float:
    """The largest slow-down factor (>= 1) bulk encryption alone explains when a
    transfer moves `bytes_per_second` over plain HTTP: each byte sealed once and
    opened once on this machine, the two never overlapping with other work."""
    return 1 + 2 * bytes_per_second / aead_speed


_CLIENT_SCRIPT = """
import json, socket, ssl, sys, time
port, n, ca = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
out = []
for _ in range(n):
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s, \\
            ctx.wrap_socket(s, server_hostname="localhost"):
        out.append(time.perf_counter() - t0)
print(json.dumps({"openssl": ssl.OPENSSL_VERSION, "seconds": out}))
"""
_HELLO = re.compile(r"^>>> TLS 1\.3, Handshake \[length ([0-9a-f]+)\], ClientHello$", re.M)


@dataclass
class ReleaseClient:
    """A long-lived container of one release's image, to run clients from."""

    release: str
    image: str
    container: Any = None

    def start(self, client: Any, cert_dir: Path) -> None:
        self.container = client.containers.run(
            self.image, entrypoint=["sleep", "infinity"], detach=True, network_mode="host",
            volumes={str(cert_dir): {"bind": "/bench-ca", "mode": "ro"}},
            labels={"runbook.owner": "bench"})

    def run(self, *argv: str) -> str:
        code, out = self.container.exec_run(list(argv), demux=False)
        text = out.decode(errors="replace")
        if code != 0:
            raise EnvironmentProblem(f"{self.release} client: {' '.join(argv[:3])}... exit "
                                     f"{code}: {text[-500:]}", fix="is the image complete?")
        return text

    def handshakes(self, port: int, n: int) -> tuple[str, list[float]]:
        doc = json.loads(self.run("python3", "-c", _CLIENT_SCRIPT, str(port), str(n),
                                  "/bench-ca/ca.crt"))
        return doc["openssl"], doc["seconds"]

    def client_hellos(self, port: int) -> list[int]:
        """The bytes of each ClientHello handshake message in one TLS 1.3 handshake,
        from this release's `openssl s_client -msg` with its default groups."""
        out = self.run("sh", "-c", f"openssl s_client -connect 127.0.0.1:{port} "
                       "-servername localhost -tls1_3 -msg </dev/null 2>/dev/null")
        return [int(h, 16) for h in _HELLO.findall(out)]

    def stop(self) -> None:
        if self.container is not None:
            self.container.remove(force=True, v=True)  # and its anonymous volumes
            self.container = None


def release_images() -> dict[str, str]:
    """The runbook image of each Debian release (scripts/release.sh's names)."""
    first, *others = pinned("DEBIAN_RELEASES", "bookworm").strip('"').split()
    name = pinned("IMAGE_NAME", "influx-tls-runbook")
    return {first: image_ref(), **{r: f"{name}-{r}:latest" for r in others}}


def client_release_handshakes(port: int, cert_dir: Path, *, rounds: int, per_round: int,
                              progress: Progress = print) -> dict[str, Any]:
    """TLS 1.3 handshake time to influxd at `port` from each release's client, rounds
    interleaved (order alternating); per release the median of per-round medians with
    its bootstrap interval, the ratio to the first release, and the ClientHellos."""
    from lab.server import docker_client

    client = docker_client()
    clients = [ReleaseClient(r, image) for r, image in release_images().items()]
    per_release: dict[str, list[float]] = {c.release: [] for c in clients}
    openssl: dict[str, str] = {}
    try:
        for c in clients:
            c.start(client, cert_dir)
        hellos = {c.release: c.client_hellos(port) for c in clients}
        progress(f"handshakes from {', '.join(per_release)}: {rounds} rounds of {per_round}")
        for r in range(rounds):
            for c in clients[r % 2:] + clients[:r % 2]:
                openssl[c.release], seconds = c.handshakes(port, per_round)
                per_release[c.release].append(statistics.median(seconds) * 1000)
    finally:
        for c in clients:
            c.stop()
    first = clients[0].release
    out: dict[str, Any] = {"unit": "ms", "rounds": rounds, "handshakes_per_round": per_round,
                           "releases": {}}
    for release, medians in per_release.items():
        out["releases"][release] = {
            "openssl": openssl[release], "median_ms": bootstrap(medians).as_dict(),
            "client_hellos": len(hellos[release]), "client_hello_bytes": hellos[release],
            "rounds_ms": medians}
        if release != first:
            out["releases"][release]["ratio_to_" + first] = bootstrap_ratio(
                medians, per_release[first]).as_dict()
    return out
