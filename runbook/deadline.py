"""One deadline for a whole network exchange: connect, handshake and every read.

A socket timeout bounds each call; a server that trickles a byte a second
keeps every call short and the exchange endless. Each step here asks the
deadline how long is left, so the sum is bounded, not each part.
"""

from __future__ import annotations

import math
import socket
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from runbook.errors import UsageError

T = TypeVar("T")


def check_seconds(name: str, value: float) -> float:
    """`value` if it is a finite number of seconds above 0; else a named UsageError
    (nan passes every comparison-based range check, inf never ends)."""
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise UsageError(f"{name} {value!r} is not a number of seconds",
                         fix=f"give {name} a finite number above 0, e.g. 5")
    return float(value)


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.0, self.end - time.monotonic())

    @property
    def expired(self) -> bool:
        return self.left() <= 0

    def arm(self, sock: socket.socket) -> None:
        """Give `sock`'s next call what is left (TimeoutError once nothing is)."""
        left = self.left()
        if left <= 0:
            raise TimeoutError("deadline passed")
        sock.settimeout(left)


def connect(host: str, port: int, deadline: Deadline) -> socket.socket:
    """A TCP connection within the deadline, trying each address in turn (as
    socket.create_connection does, but with the time left, not a fresh timeout each)."""
    last: OSError | None = None
    for family, kind, proto, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        sock = socket.socket(family, kind, proto)
        try:
            deadline.arm(sock)
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
            if isinstance(exc, TimeoutError):
                raise
    raise last or OSError(f"no address for {host}")


def recv_until(sock: socket.socket, deadline: Deadline, *, limit: int,
               done: bytes | None = None) -> bytes:
    """What `sock` sends until it closes, `done` appears, `limit` bytes, or the
    deadline (then what came so far: a trickle ends on time)."""
    data = b""
    while len(data) < limit and not (done and done in data):
        try:
            deadline.arm(sock)
            chunk = sock.recv(min(4096, limit - len(data)))
        except TimeoutError:
            break
        if not chunk:
            break
        data += chunk
    return data


def in_parallel(steps: Sequence[Callable[[], T]], *, workers: int = 8) -> list[T]:
    """The results of `steps`, run a few at a time; each step bounds itself. On
    Ctrl-C the steps not yet started are dropped."""
    if not steps:
        return []
    pool = ThreadPoolExecutor(max_workers=min(workers, len(steps)))
    try:
        futures = [pool.submit(step) for step in steps]
        return [f.result() for f in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
