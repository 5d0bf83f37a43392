"""A real TLS server without Docker: `openssl s_server` with given settings.

Used where a test needs a TLS listener whose versions, suites and curves it
chooses (e.g. stand-ins for influxd's hardening levels). The port is the
one s_server itself picks and prints (`ACCEPT 127.0.0.1:PORT`); readiness
is that line, polled with a deadline, never a sleep. Its output goes to a
file, not a pipe: s_server logs every refused handshake, and a pipe nobody
reads fills up and stops it.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from runbook.poll import poll_until


@contextlib.contextmanager
def s_server(cert: Path, key: Path, *args: str, timeout: float = 10.0) -> Iterator[int]:
    """Run `openssl s_server -www` with `args` on 127.0.0.1; yields its port."""
    openssl = shutil.which("openssl")
    assert openssl, "openssl is not installed"
    with tempfile.TemporaryFile(mode="w+") as log:
        proc = subprocess.Popen([openssl, "s_server", "-accept", "127.0.0.1:0", "-www",
                                 "-cert", str(cert), "-key", str(key), *args],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield _accepted_port(proc, log, timeout)
        finally:
            proc.kill()
            proc.wait(timeout=10)


def _accepted_port(proc: subprocess.Popen[bytes], log: IO[str], timeout: float) -> int:
    def port() -> int | None:
        log.seek(0)
        text = log.read()
        if proc.poll() is not None:
            raise AssertionError(f"openssl s_server exited {proc.returncode}:\n{text}")
        found = re.search(r"^ACCEPT \S+:(\d+)$", text, flags=re.M)
        return int(found.group(1)) if found else None

    return poll_until(port, what="openssl s_server's ACCEPT line", timeout=timeout,
                      fatal=(AssertionError,))
