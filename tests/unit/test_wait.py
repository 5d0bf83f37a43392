"""poll_until: returns the first truthy value, names what timed out, stops on fatal errors."""

from __future__ import annotations

import itertools

import pytest

from runbook.errors import ServerError, WaitTimeout
from runbook.wait import poll_until


def test_returns_the_first_truthy_result():
    counter = itertools.count()
    assert poll_until(lambda: next(counter) >= 3 and "ready", what="x", timeout=5,
                      interval=0.001) == "ready"


def test_timeout_names_the_condition_the_last_error_and_the_context():
    def attempt():
        raise ConnectionRefusedError("connection refused")

    with pytest.raises(WaitTimeout) as exc:
        poll_until(attempt, what="a verified ping at https://localhost:8086", timeout=0.05,
                   interval=0.01, on_timeout=lambda: "log tail: listening failed")
    message = str(exc.value)
    assert "waiting for a verified ping at https://localhost:8086" in message
    assert "connection refused" in message and "log tail: listening failed" in message


def test_fatal_errors_end_the_wait_at_once():
    calls = []

    def attempt():
        calls.append(1)
        raise ServerError("influxd exited")

    with pytest.raises(ServerError):
        poll_until(attempt, what="x", timeout=30, fatal=(ServerError,))
    assert len(calls) == 1
