"""`python -m lab bench` (make bench): what TLS costs influxd, measured here, side by side.

Servers (one container each, same image, same machine): plain HTTP; HTTPS
with an RSA-2048 certificate, twice (TLS 1.3 clients write to one, TLS 1.2
clients to the other, so each write mode's server holds as much data as
HTTP's); HTTPS with an ECDSA P-256 certificate; HTTPS RSA with strict ciphers. HTTP and HTTPS are
interleaved: every round measures every mode once, back to back, in a
rotated order, so drift in machine load hits each mode alike. Many short
rounds (30 by default) give each figure a median over rounds, and each
headline ratio of medians a 95 % percentile-bootstrap interval over paired
rounds (lab.bench_stats). Timers start after the connection is up, so
a write or query figure carries no handshake. The client is Python's
http.client on the same 2-core machine, so absolute numbers include client
cost; ratios are what carry over. lab.bench_context adds what bulk
encryption alone can explain (openssl speed) and handshakes from each
Debian release's client.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import platform
import shutil
import ssl
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from lab.bench_context import (
    AEADS,
    aead_bytes_per_second,
    client_release_handshakes,
    encryption_bound,
)
from lab.bench_stats import bootstrap, bootstrap_ratio
from lab.image import influxd_version
from runbook.errors import ServerError
from runbook.render import Progress
from runbook.tls import certs
from runbook.tls.contexts import tls_context
from runbook.tls.groups import set_groups

if TYPE_CHECKING:  # the docs hook imports this module for table_rows: no Docker there
    from lab.server import TLSInfluxd

ORG, BUCKET, TOKEN = "bench", "bench", "bench-token"
QUERY_BASE_NS = 1_600_000_000_000_000_000
WRITE_BASE_NS = 1_700_000_000_000_000_000

Result = dict[str, Any]


@dataclass
class Target:
    name: str
    server: TLSInfluxd
    tls_version: ssl.TLSVersion | None = None  # None: plain HTTP
    groups: str | None = None  # key-exchange groups offered, in order; None: OpenSSL's

    def connect(self) -> http.client.HTTPConnection:
        host, port = "localhost", self.server.host_port
        if self.tls_version is None:
            return http.client.HTTPConnection(host, port, timeout=30)
        ctx = tls_context(self.server.ca_file, version=self.tls_version)
        if self.groups:
            set_groups(ctx, self.groups)
        return http.client.HTTPSConnection(host, port, context=ctx, timeout=30)


def _request(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> bytes:
    conn.request(method, path, body=body, headers={"Authorization": f"Token {TOKEN}",
                                                   **(headers or {})})
    resp = conn.getresponse()
    data = resp.read()
    if resp.status >= 300:
        raise ServerError(f"{method} {path}: HTTP {resp.status}: {data[:200]!r}")
    return data


def write_throughput(t: Target, batches: int, batch_size: int,
                     seq: list[int]) -> tuple[float, float]:
    """Points and body bytes per second over one kept-alive connection, handshake excluded."""
    conn = t.connect()
    path = "/api/v2/write?" + urlencode({"org": ORG, "bucket": BUCKET, "precision": "ns"})
    bodies = []
    for _ in range(batches):
        base = seq[0]
        seq[0] += batch_size
        bodies.append("\n".join(f"bench_w,mode={t.name},s=s{i % 50} v={i}i {base + i}"
                                for i in range(batch_size)).encode())
    conn.connect()  # TCP and TLS handshake before the timer: this measures the writes
    start = time.perf_counter()
    for body in bodies:
        _request(conn, "POST", path, body, {"Content-Type": "text/plain"})
    elapsed = time.perf_counter() - start
    conn.close()
    return batches * batch_size / elapsed, sum(map(len, bodies)) / elapsed


def ping_latencies(t: Target, n: int, *, reuse: bool) -> list[float]:
    """Seconds per GET /ping, with a new connection (full handshake) or one reused."""
    out = []
    conn = t.connect() if reuse else None
    for _ in range(n):
        start = time.perf_counter()
        c = conn or t.connect()
        _request(c, "GET", "/ping")
        if not reuse:
            c.close()
        out.append(time.perf_counter() - start)
    if conn:
        conn.close()
    return out


def query_seconds(t: Target, points: int) -> tuple[float, int]:
    """Seconds for the query (handshake excluded) and the bytes of its CSV answer."""
    conn = t.connect()
    flux = (b'from(bucket: "bench") |> range(start: 0) '
            b'|> filter(fn: (r) => r._measurement == "bench_q")')
    conn.connect()
    start = time.perf_counter()
    body = _request(conn, "POST", "/api/v2/query?" + urlencode({"org": ORG}), flux,
                    {"Content-Type": "application/vnd.flux", "Accept": "application/csv"})
    elapsed = time.perf_counter() - start
    conn.close()
    rows = body.count(b"\n,_result,") + body.count(b"\r\n,_result,")
    if rows < points:
        raise ServerError(f"query returned {rows} rows, expected {points}")
    return elapsed, len(body)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


@dataclass
class Figure:
    name: str
    unit: str
    rounds: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        ci = bootstrap(self.rounds)
        return {"unit": self.unit, "median": ci.value, "ci95": [ci.low, ci.high],
                "min": min(self.rounds), "max": max(self.rounds), "rounds": self.rounds}


def _rotate(items: list[Any], r: int) -> list[Any]:
    return items[r % len(items):] + items[:r % len(items)]


def _machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": str(os.cpu_count()), "kernel": platform.release(),
            "python": platform.python_version(), "openssl": ssl.OPENSSL_VERSION}


@dataclass
class _Servers:
    """The bench servers and how long each took to a verified ping."""

    by_name: dict[str, TLSInfluxd] = field(default_factory=dict)
    startup_seconds: dict[str, float] = field(default_factory=dict)


def _make_servers(root: Path, stack: list[TLSInfluxd]) -> _Servers:
    from lab.server import TLSInfluxd

    ca = certs.CA.create("runbook bench CA")
    dirs = {}
    for name, key_type in (("rsa", "rsa2048"), ("ecdsa", "p256")):
        dirs[name] = certs.write_server_dir(root / name,
                                            ca.issue(["localhost"], key_type=key_type), ca)
    specs: dict[str, dict[str, Any]] = {
        "http": {"tls": False},
        "rsa": {"cert_dir": dirs["rsa"], "ca_file": dirs["rsa"] / "ca.crt"},
        # TLS 1.2 writes to a server of their own: each write mode's server then
        # stores the same number of points (and compacts as often) as HTTP's.
        "rsa-tls1.2": {"cert_dir": dirs["rsa"], "ca_file": dirs["rsa"] / "ca.crt"},
        "ecdsa": {"cert_dir": dirs["ecdsa"], "ca_file": dirs["ecdsa"] / "ca.crt"},
        "rsa-strict": {"cert_dir": dirs["rsa"], "ca_file": dirs["rsa"] / "ca.crt",
                       "strict_ciphers": True},
    }
    servers = _Servers()
    for name, spec in specs.items():
        s = TLSInfluxd(owner="bench", **spec)
        stack.append(s)
        t0 = time.perf_counter()
        s.start(timeout=90)
        servers.by_name[name] = s
        servers.startup_seconds[name] = time.perf_counter() - t0
        s.client().setup(org=ORG, bucket=BUCKET, username="bench",
                         password="bench-password", token=TOKEN)  # noqa: S106 - throwaway server
    return servers


def load(modes: dict[str, Target], query_points: int) -> None:
    """Write `query_points` points through the HTTP and the TLS 1.3 target, for the query test."""
    path = "/api/v2/write?" + urlencode({"org": ORG, "bucket": BUCKET, "precision": "ns"})
    for name in ("http", "https-tls1.3"):
        conn = modes[name].connect()
        for off in range(0, query_points, 10_000):
            body = "\n".join(f"bench_q,s=s{i % 10} v={i}i {QUERY_BASE_NS + i}"
                             for i in range(off, off + 10_000)).encode()
            _request(conn, "POST", path, body)
        conn.close()


def measure(modes: dict[str, Target], handshakes: dict[str, Target], *, rounds: int,
            batches: int, batch_size: int, pings: int, query_points: int,
            progress: Progress) -> dict[str, Figure]:
    """Every figure, every round, each round in a rotated order of modes."""
    figs: dict[str, Figure] = {}

    def add(key: str, unit: str, value: float) -> None:
        figs.setdefault(key, Figure(key, unit)).rounds.append(value)

    seq = [WRITE_BASE_NS]
    for r in range(rounds):
        if r % 10 == 0:
            progress(f"round {r + 1}/{rounds}")
        for name, t in _rotate(list(modes.items()), r):
            points_s, bytes_s = write_throughput(t, batches, batch_size, seq)
            add(f"write/{name}", "points/s", points_s)
            add(f"write-bytes/{name}", "bytes/s", bytes_s)
            new = ping_latencies(t, pings, reuse=False)
            reused = ping_latencies(t, pings, reuse=True)
            add(f"ping-new-p50/{name}", "ms", percentile(new, 50) * 1000)
            add(f"ping-new-p99/{name}", "ms", percentile(new, 99) * 1000)
            add(f"ping-reused-p50/{name}", "ms", percentile(reused, 50) * 1000)
            add(f"ping-reused-p99/{name}", "ms", percentile(reused, 99) * 1000)
        for name, t in _rotate(list(handshakes.items()), r):
            add(f"handshake-p50/{name}", "ms",
                percentile(ping_latencies(t, pings, reuse=False), 50) * 1000)
        for name in _rotate(["http", "https-tls1.3"], r):
            seconds, size = query_seconds(modes[name], query_points)
            add(f"query-100k/{name}", "s", seconds)
            add(f"query-bytes/{name}", "bytes/s", size / seconds)
    return figs


HEADLINES = {
    "write throughput, HTTPS TLS 1.3 / HTTP": ("write/https-tls1.3", "write/http"),
    "write throughput, HTTPS TLS 1.2 / HTTP": ("write/https-tls1.2", "write/http"),
    "new-connection ping p50, HTTPS TLS 1.3 / HTTP":
        ("ping-new-p50/https-tls1.3", "ping-new-p50/http"),
    "reused-connection ping p50, HTTPS TLS 1.3 / HTTP":
        ("ping-reused-p50/https-tls1.3", "ping-reused-p50/http"),
    "handshake p50, ECDSA P-256 / RSA-2048 (TLS 1.3)":
        ("handshake-p50/ecdsa-p256 (TLS 1.3)", "handshake-p50/rsa-2048 (TLS 1.3)"),
    "handshake p50, strict / default ciphers (TLS 1.2)":
        ("handshake-p50/rsa-2048 strict (TLS 1.2)", "handshake-p50/rsa-2048 (TLS 1.2)"),
    # influxd offers no X25519: a client sending an X25519 key share first gets a
    # HelloRetryRequest and sends a second ClientHello with P-256.
    "handshake p50, X25519 first / P-256 first (TLS 1.3)":
        ("handshake-p50/rsa-2048 X25519 first (TLS 1.3)",
         "handshake-p50/rsa-2048 P-256 first (TLS 1.3)"),
    "100k-point query time, HTTPS / HTTP": ("query-100k/https-tls1.3", "query-100k/http"),
}


X25519_FIRST, P256_FIRST = "X25519:P-256", "P-256:X25519"


def client_hellos(port: int) -> dict[str, int]:
    """ClientHellos in one TLS 1.3 handshake per group order, as openssl s_client -msg
    shows them: 2 means the server answered the first with a HelloRetryRequest."""
    counts = {}
    for groups in (X25519_FIRST, P256_FIRST):
        proc = subprocess.run(  # noqa: S603 - fixed argv
            ["openssl", "s_client", "-connect", f"localhost:{port}", "-tls1_3",  # noqa: S607
             "-groups", groups, "-msg"], stdin=subprocess.DEVNULL, capture_output=True,
            text=True, timeout=30)
        counts[groups] = proc.stdout.count(", ClientHello")
    return counts


def headline(figs: dict[str, Figure]) -> dict[str, dict[str, float]]:
    """Each headline ratio of medians with its 95 % bootstrap interval over paired rounds."""
    return {title: bootstrap_ratio(figs[a].rounds, figs[b].rounds).as_dict()
            for title, (a, b) in HEADLINES.items()}


def encryption_context(figs: dict[str, Figure], speeds: dict[str, float]) -> dict[str, Any]:
    """The largest cost bulk encryption alone explains, at the plain-HTTP byte rates
    measured, for the slowest AEAD of this CPU; beside it, the measured ratios."""
    slowest = min(speeds, key=lambda k: speeds[k])
    write_b = statistics.median(figs["write-bytes/http"].rounds)
    query_b = statistics.median(figs["query-bytes/http"].rounds)
    return {
        "aead_bytes_per_s": speeds, "slowest": slowest,
        "http_write_bytes_per_s": write_b, "http_query_bytes_per_s": query_b,
        # throughput can fall at most to 1/bound; a query can take at most bound times as long
        "write_ratio_floor": 1 / encryption_bound(write_b, speeds[slowest]),
        "query_ratio_ceiling": encryption_bound(query_b, speeds[slowest]),
    }


def summarise(figs: dict[str, Figure], servers: _Servers, settings: dict[str, int]) -> Result:
    """The result document: machine, settings, start-up times, headline ratios, figures."""
    summary = {k: f.summary() for k, f in figs.items()}
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "influxd": influxd_version(),
        "settings": settings,
        "server_start_to_verified_ping_s": {
            k: round(v, 3) for k, v in servers.startup_seconds.items()},
        "confidence": "95 % percentile bootstrap over rounds (paired for ratios), "
                      "2000 resamples, seeded",
        "headline": headline(figs),
        "figures": summary,
    }


def run(*, rounds: int = 30, batches: int = 6, batch_size: int = 5000, pings: int = 20,
        query_points: int = 100_000, release_rounds: int = 15,
        progress: Progress = print) -> Result:
    """Start the servers, load, measure, summarise; every container is removed at the end."""
    root = Path(tempfile.mkdtemp(prefix="runbook-bench-"))
    root.chmod(0o755)
    stack: list[TLSInfluxd] = []
    try:
        progress("starting 5 influxd containers (HTTP, HTTPS RSA twice, ECDSA, RSA strict)")
        servers = _make_servers(root, stack)
        s = servers.by_name
        v12, v13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3
        modes = {
            "http": Target("http", s["http"]),
            "https-tls1.2": Target("tls12", s["rsa-tls1.2"], v12),
            "https-tls1.3": Target("tls13", s["rsa"], v13),
        }
        handshakes = {
            "rsa-2048 (TLS 1.3)": Target("rsa", s["rsa"], v13),
            "ecdsa-p256 (TLS 1.3)": Target("ecdsa", s["ecdsa"], v13),
            "rsa-2048 (TLS 1.2)": Target("rsa12", s["rsa"], v12),
            "rsa-2048 strict (TLS 1.2)": Target("strict12", s["rsa-strict"], v12),
            "rsa-2048 X25519 first (TLS 1.3)": Target("x25519", s["rsa"], v13, X25519_FIRST),
            "rsa-2048 P-256 first (TLS 1.3)": Target("p256", s["rsa"], v13, P256_FIRST),
        }
        progress(f"loading {query_points} points for the query test")
        load(modes, query_points)
        figs = measure(modes, handshakes, rounds=rounds, batches=batches, batch_size=batch_size,
                       pings=pings, query_points=query_points, progress=progress)
        settings = {"rounds": rounds, "batches": batches, "batch_size": batch_size,
                    "pings": pings, "query_points": query_points,
                    "release_rounds": release_rounds}
        result = summarise(figs, servers, settings)
        result["tls13_suite"] = negotiated_suite(modes["https-tls1.3"])
        result["client_hellos"] = client_hellos(s["rsa"].host_port or 0)
        progress("openssl speed: " + ", ".join(AEADS))
        result["encryption"] = encryption_context(
            figs, {c: aead_bytes_per_second(c) for c in AEADS})
        result["client_releases"] = client_release_handshakes(
            s["rsa"].host_port or 0, s["rsa"].cert_dir or root, rounds=release_rounds,
            per_round=pings, progress=progress)
        return result
    finally:
        for server in stack:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


def negotiated_suite(t: Target) -> str:
    conn = t.connect()
    conn.connect()
    cipher = conn.sock.cipher() if isinstance(conn.sock, ssl.SSLSocket) else None
    conn.close()
    return cipher[0] if cipher else "none"


def _fmt(unit: str) -> str:
    return {"points/s": "{:,.0f}", "bytes/s": "{:,.0f}", "s": "{:.3f}"}.get(unit, "{:.2f}")


def table_rows(result: Result) -> list[tuple[str, str, str, str]]:
    """(figure, median, 95 % interval, min..max) rows for the terminal and the docs page."""
    rows = []
    for key, f in result["figures"].items():
        fmt = _fmt(f["unit"])
        ci = f.get("ci95")  # absent in files from before the intervals
        rows.append((key, f"{fmt.format(f['median'])} {f['unit']}",
                     f"{fmt.format(ci[0])} .. {fmt.format(ci[1])}" if ci else "-",
                     f"{fmt.format(f['min'])} .. {fmt.format(f['max'])}"))
    return rows


def headline_text(h: dict[str, float]) -> str:
    """"0.97 ± 0.03 [0.94, 1.00]": the ratio, the interval's half-width, the interval."""
    return f"{h['value']:.2f} ± {(h['high'] - h['low']) / 2:.2f} [{h['low']:.2f}, {h['high']:.2f}]"


def write_chart(result: Result, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = [(k, h["value"], h["low"], h["high"]) for k, h in result["headline"].items()]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.barh([k for k, *_ in items], [v for _, v, _, _ in items], color="#3f51b5",
            xerr=[[v - lo for _, v, lo, _ in items], [hi - v for _, v, _, hi in items]],
            capsize=3)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("ratio (1.0 = same as the reference)")
    version = result.get("influxd") or influxd_version()
    ax.set_title(f"What TLS costs InfluxDB {version} ({result['machine']['cores']} cores, "
                 f"{result['date'][:10]})")
    ax.invert_yaxis()
    for i, (_, v, _, hi) in enumerate(items):
        ax.text(hi, i, f" {v:.2f}", va="center")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def save(result: Result, json_path: Path, png_path: Path) -> None:
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, indent=2) + "\n")
    write_chart(result, png_path)
