"""Poll a condition with a deadline; never sleep blindly."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from runbook.errors import WaitTimeout

T = TypeVar("T")

POLL_INTERVAL = 0.1


def poll_until(
    attempt: Callable[[], T | None],
    *,
    what: str,
    timeout: float,
    interval: float = POLL_INTERVAL,
    on_timeout: Callable[[], str] | None = None,
    fatal: tuple[type[BaseException], ...] = (),
    fix: str = "check the log above; raise the timeout only if the machine is slow",
) -> T:
    """Call `attempt` until it returns a truthy value; return that value.

    Exceptions of the `fatal` types end the wait at once; others count as
    "not yet", and the last one is reported if the deadline passes.
    `on_timeout` may add context (a server log tail) to the timeout message;
    `fix` is what the timeout tells the user to do.
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            result = attempt()
            if result:
                return result
        except fatal:
            raise
        except Exception as exc:  # noqa: BLE001 - any other failure means "not ready yet"
            last_error = exc
        if time.monotonic() >= deadline:
            detail = f"; last error: {last_error}" if last_error else ""
            extra = f"\n{on_timeout()}" if on_timeout else ""
            raise WaitTimeout(
                f"timed out after {timeout:g}s waiting for {what}{detail}{extra}",
                fix=fix,
                what=what,
                timeout=timeout,
            ) from last_error
        time.sleep(interval)
