"""Wait until a server answers over HTTP(S), polling every 50 ms with a deadline.

The pages' readiness step. curl's `--retry` waits whole seconds between
tries (about 0.9 s lost per start, measured), and with Docker's port proxy it
must retry every error, certificate errors included, until its last try.
This wait polls 20 times a second, keeps trying only while the server is
not there yet (refused, reset, closed during the handshake: Docker's proxy
before influxd listens), and stops at once when an answer proves that waiting
cannot help: a certificate that does not verify, or plain HTTP on an
https:// URL.
"""

from __future__ import annotations

import os
import re
import ssl
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from runbook import __version__
from runbook.deadline import Deadline, check_seconds, connect, recv_until
from runbook.errors import ProbeError, UsageError
from runbook.poll import poll_until
from runbook.tls.contexts import tls_context

POLL_S = 0.05
USER_AGENT = f"runbook-wait/{__version__}"
HEAD_LIMIT = 16 * 1024  # bytes of status line and headers read at most
BODY_LIMIT = 512  # bytes of a 4xx body read, to recognise Go's refusal
PLAIN_TO_TLS = b"HTTP request to an HTTPS server"


@dataclass
class Ready:
    url: str
    status: int
    seconds: float

    def text(self) -> str:
        return f"ready: {self.url} answered {self.status} after {self.seconds:.2f} s"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class NotTrusted(ProbeError):
    """The server answered with a certificate this client does not accept."""


class NotTLS(ProbeError):
    """The URL's scheme is not what the server speaks (HTTP vs HTTPS)."""


class UnexpectedAnswer(ProbeError):
    """The server answered, but not with success: waiting longer would not help."""


class ProcessExited(ProbeError):
    """The process that was to answer (--pid) is gone: waiting longer would not help."""


def process_running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (exited, not yet reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by another user
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        # Gone since kill(0), unless this system has no /proc at all.
        return not Path("/proc/self").exists()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _target(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of `url`; UsageError, at once, for one that cannot work."""
    from runbook.tls.probe import check_host_name

    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # "[x]", "[::1", a port beyond 65535
        raise UsageError(f"bad URL {url!r}: {exc}",
                         fix="give the health URL, e.g. https://localhost:8086/health") from None
    if parts.scheme not in ("http", "https") or not host:
        raise UsageError(f"not an http:// or https:// URL: {url!r}",
                         fix="give the health URL, e.g. https://localhost:8086/health")
    if port == 0:
        raise UsageError(f"port 0 in {url!r} cannot be connected to",
                         fix="use a port from 1 to 65535")
    check_host_name(host, url)  # a name no lookup can find: waiting cannot help
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), \
        parts.path or "/health"


def _status(head: bytes) -> int:
    """The status code of an HTTP answer's first line; ConnectionError if it is none."""
    line = head.split(b"\r\n", 1)[0]
    match = re.fullmatch(rb"HTTP/\d(?:\.\d)? (\d{3})(?: .*)?", line)
    if match is None:
        raise ConnectionError(f"not an HTTP answer: {line[:60]!r}")
    return int(match.group(1))


def ask(host: str, port: int, path: str, ctx: ssl.SSLContext | None,
        deadline: Deadline) -> tuple[int, bytes]:
    """(status, start of the body) of GET `path`, all of it (connect, handshake,
    request, answer) within `deadline`: a server that trickles ends on time."""
    sock = connect(host, port, deadline)
    try:
        if ctx is not None:
            deadline.arm(sock)  # CPython bounds the whole handshake by the socket's timeout
            sock = ctx.wrap_socket(sock, server_hostname=host)
        deadline.arm(sock)
        # Some servers refuse a request without a User-Agent (Pebble, as ACME asks).
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {USER_AGENT}\r\n"
                     f"Connection: close\r\n\r\n".encode())
        data = recv_until(sock, deadline, limit=HEAD_LIMIT, done=b"\r\n\r\n")
        if b"\r\n\r\n" not in data and deadline.expired:
            raise TimeoutError(f"no complete answer within {deadline.seconds:g}s")
        status = _status(data)
        head, _, body = data.partition(b"\r\n\r\n")
        if 400 <= status < 500 and len(body) < BODY_LIMIT:  # the body may say why
            body += recv_until(sock, deadline, limit=BODY_LIMIT - len(body),
                               done=PLAIN_TO_TLS)
        return status, body[:BODY_LIMIT]
    finally:
        sock.close()


def _not_trusted(url: str, host: str, port: int, exc: ssl.SSLCertVerificationError,
                 deadline: Deadline) -> NotTrusted:
    from runbook.tls.probe import Target, with_cn_only

    why = with_cn_only(exc.verify_message, Target(host, port, host), max(deadline.left(), 0.5))
    return NotTrusted(f"{url} answered, but its certificate does not verify: {why}",
                      fix="give the CA that signed it (--ca), or check the name in the URL; "
                          "runbook doctor explains the message", url=url)


def wait_ready(url: str, *, ca_file: str | None = None, insecure: bool = False,
               timeout: float = 30.0, pid: int | None = None) -> Ready:
    """Poll `url` until it answers 2xx (503 and no answer: ask again); raise
    WaitTimeout naming the last error at the deadline, and NotTrusted, NotTLS,
    UnexpectedAnswer or (with `pid`, the server's process) ProcessExited at once.
    Each try ends by the overall deadline, whatever the server does."""
    check_seconds("--timeout", timeout)
    scheme, host, port, path = _target(url)
    ctx = tls_context(ca_file, insecure=insecure) if scheme == "https" else None
    started = time.monotonic()
    deadline = started + timeout

    def attempt() -> int | None:
        if pid is not None and not process_running(pid):
            raise ProcessExited(
                f"process {pid} exited before {url} answered",
                fix="its log says why it stopped (for influxd: journalctl -u influxdb, docker "
                    "logs influxdb or its log file; runbook doctor --log FILE explains it)",
                url=url, pid=pid)
        this_try = Deadline(max(0.05, min(2.0, deadline - time.monotonic())))
        try:
            status, body = ask(host, port, path, ctx, this_try)
        except ssl.SSLCertVerificationError as exc:
            raise _not_trusted(url, host, port, exc, this_try) from None
        except ssl.SSLError as exc:
            if exc.reason == "WRONG_VERSION_NUMBER":
                raise NotTLS(f"{url} answers plain HTTP, not TLS",
                             fix="influxd did not get both tls-cert and tls-key; "
                                 "see troubleshoot.md#tls-requires-specifying-both-cert-and-key",
                             url=url) from None
            raise
        if 200 <= status < 300:
            return status
        if status >= 500:  # influxd answers 503 while it opens its stores
            raise ConnectionError(f"HTTP {status}")
        if PLAIN_TO_TLS in body:
            raise NotTLS(f"{url}: the server there speaks HTTPS, not plain HTTP",
                         fix=f"use {url.replace('http://', 'https://', 1)}", url=url)
        raise UnexpectedAnswer(f"{url} answered HTTP {status}, not ready",
                               fix="ask influxd's health URL, /health", url=url, status=status)

    status = poll_until(attempt, what=f"{url} to answer", timeout=timeout, interval=POLL_S,
                        fatal=(NotTrusted, NotTLS, UnexpectedAnswer, ProcessExited),
                        fix="is influxd running and listening there? Its log says why not "
                            "(journalctl -u influxdb, docker logs influxdb, or its log file); "
                            "raise --timeout only if it is still opening a large database")
    return Ready(url, status, time.monotonic() - started)
