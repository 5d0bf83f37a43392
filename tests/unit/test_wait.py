"""poll_until: returns the first truthy value, names what timed out, stops on fatal errors."""

from __future__ import annotations

import itertools

import pytest

from runbook.errors import ServerError, WaitTimeout
from runbook.poll import poll_until


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


def _unused_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_wait_with_pid_stops_when_that_process_exits_not_at_the_deadline():
    import subprocess
    import time

    from runbook.ready import ProcessExited, wait_ready

    # A real process that ends, as an influxd that cannot load its key does;
    # unreaped, it is a zombie, which counts as gone.
    proc = subprocess.Popen(["sleep", "0.3"])
    started = time.monotonic()
    with pytest.raises(ProcessExited) as exc:
        wait_ready(f"https://127.0.0.1:{_unused_port()}/health", insecure=True,
                   timeout=30, pid=proc.pid)
    elapsed = time.monotonic() - started
    proc.wait()
    assert 0.25 <= elapsed < 5, elapsed
    assert f"process {proc.pid} exited before" in str(exc.value)


def test_the_cli_names_a_pid_that_is_not_running_in_one_error_line_and_its_fix():
    import subprocess
    import sys

    proc = subprocess.Popen(["true"])
    proc.wait()  # reaped: the pid is free
    out = subprocess.run([sys.executable, "-m", "runbook", "wait", "--pid", str(proc.pid),
                          "--timeout", "20", f"http://127.0.0.1:{_unused_port()}/health"],
                         capture_output=True, text=True, timeout=15)
    assert out.returncode == 1, out
    error, fix = out.stderr.splitlines()
    assert error.startswith("ERROR: ") and f"process {proc.pid} exited before" in error
    assert fix.startswith("  fix: ")


@pytest.mark.parametrize("bad", ["0", "-5", "abc", "99999999999999999999"])
def test_the_cli_refuses_a_bad_pid_with_a_usage_error(bad):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "runbook", "wait", "--pid", bad,
                          "http://127.0.0.1:1/health"], capture_output=True, text=True,
                         timeout=15)
    assert out.returncode == 2, out
    assert "--pid" in out.stderr and "Traceback" not in out.stderr
