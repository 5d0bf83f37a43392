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

import http.client
import os
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from runbook import __version__
from runbook.client import tls_context
from runbook.errors import ProbeError, UsageError
from runbook.wait import poll_until

POLL_S = 0.05
USER_AGENT = f"runbook-wait/{__version__}"


@dataclass
class Ready:
    url: str
    status: int
    seconds: float


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
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"not an http:// or https:// URL: {url!r}",
                         fix="give the health URL, e.g. https://localhost:8086/health")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UsageError(f"bad port in {url!r}", fix="use a port from 1 to 65535") from None
    return parts.scheme, parts.hostname, port, parts.path or "/health"


def wait_ready(url: str, *, ca_file: str | None = None, insecure: bool = False,
               timeout: float = 30.0, pid: int | None = None) -> Ready:
    """Poll `url` until it answers 2xx (503 and no answer: ask again); raise
    WaitTimeout naming the last error at the deadline, and NotTrusted, NotTLS,
    UnexpectedAnswer or (with `pid`, the server's process) ProcessExited at once."""
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
        per_try = max(0.05, min(2.0, deadline - time.monotonic()))
        conn: http.client.HTTPConnection
        if ctx is not None:
            conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=per_try)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=per_try)
        try:
            # Some servers refuse a request without one (Pebble, as ACME asks).
            conn.request("GET", path, headers={"User-Agent": USER_AGENT})
            response = conn.getresponse()
            status, body = response.status, response.read(512)
        except ssl.SSLCertVerificationError as exc:
            raise NotTrusted(
                f"{url} answered, but its certificate does not verify: {exc.verify_message}",
                fix="give the CA that signed it (--ca), or check the name in the URL; "
                    "runbook doctor explains the message", url=url) from None
        except ssl.SSLError as exc:
            if exc.reason == "WRONG_VERSION_NUMBER":
                raise NotTLS(f"{url} answers plain HTTP, not TLS",
                             fix="influxd did not get both tls-cert and tls-key; "
                                 "see troubleshoot.md#tls-requires-specifying-both-cert-and-key",
                             url=url) from None
            raise
        finally:
            conn.close()
        if 200 <= status < 300:
            return status
        if status >= 500:  # influxd answers 503 while it opens its stores
            raise ConnectionError(f"HTTP {status}")
        if b"HTTP request to an HTTPS server" in body:
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
