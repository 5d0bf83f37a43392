"""`runbook demo` never destroys a demo: a second run that is interrupted, refused or run
beside the first leaves the first one's container, volume and points in place; a first
run that is interrupted removes what it made and nothing else (real influxd, real Telegraf)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from lab.demo import BUCKET, DEMO_ID_ENV, ORG, STATE_MODE
from lab.server import OWNER_LABEL, docker_client
from runbook.client import InfluxClient
from tests.signals import sigint_as_in_a_terminal

pytestmark = pytest.mark.server


@pytest.fixture
def demo_env(runbook_image):
    """A demo of its own (names, label, volume), removed at the end whatever happened."""
    demo_id = f"pytest-demo-{os.getpid()}"
    env = {**os.environ, DEMO_ID_ENV: demo_id, "RUNBOOK_IMAGE": runbook_image}
    root = Path(tempfile.mkdtemp(prefix="runbook-demo-test-"))
    yield env, demo_id, root
    client = docker_client()
    for c in client.containers.list(all=True, filters={"label": f"{OWNER_LABEL}={demo_id}"}):
        c.remove(force=True, v=True)
    for v in client.volumes.list(filters={"name": f"^{demo_id}-data$"}):
        v.remove(force=True)
    shutil.rmtree(root, ignore_errors=True)
    Path(tempfile.gettempdir(), f"runbook-{demo_id}.lock").unlink(missing_ok=True)


def demo(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lab", "demo", *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def interrupted_demo(env: dict[str, str], *args: str, after: str) -> tuple[int, str]:
    """A demo run sent SIGINT once its output shows `after`."""
    proc = subprocess.Popen([sys.executable, "-m", "lab", "demo", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=sigint_as_in_a_terminal)
    assert proc.stdout is not None
    for line in proc.stdout:
        if after in line:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, err


def inventory(demo_id: str) -> tuple[list[str], list[str]]:
    client = docker_client()
    running = sorted(c.name for c in client.containers.list(
        filters={"label": f"{OWNER_LABEL}={demo_id}"}))
    volumes = [v.name for v in client.volumes.list(filters={"name": f"^{demo_id}-data$"})]
    return running, volumes


def points(state: Path, url: str) -> int:
    client = InfluxClient(url, token=(state / "token").read_text().strip(),
                          ca_file=str(state / "tls" / "ca.crt"))
    rows = client.query(f'from(bucket: "{BUCKET}") |> range(start: 0, stop: 1h) |> count() '
                        "|> group() |> sum()", org=ORG)
    return int(rows[0]["_value"]) if rows else 0


def test_a_second_run_interrupted_refused_or_beside_the_first_keeps_the_demo(demo_env):
    env, demo_id, root = demo_env
    state = root / "state"
    first = demo(env, "--state", str(state))
    assert first.returncode == 0, first.stdout + first.stderr
    url = next(ln.split()[1] for ln in first.stdout.splitlines() if ln.startswith("URL"))
    assert (state.stat().st_mode & 0o777) == STATE_MODE
    expected = ([f"{demo_id}-influxd", f"{demo_id}-telegraf"], [f"{demo_id}-data"])
    assert inventory(demo_id) == expected
    counts = [points(state, url)]
    ca_before = (state / "tls" / "ca.crt").read_bytes()

    # 1. Ctrl-C as soon as a second run speaks, then while it verifies (the demo
    # is reused). Not a fixed 0.1 s: under load that lands in CPython's own
    # start-up, before any program runs ("Could not import runpy module").
    for after in ("demo: image", "verifying"):
        rc, err = interrupted_demo(env, "--state", str(state), after=after)
        assert rc == 130 and "Traceback" not in err, err
        assert "cleaned up" not in err
        assert inventory(demo_id) == expected
        counts.append(points(state, url))
    # 2. Another state folder: refused, nothing removed.
    other = demo(env, "--state", str(root / "other"))
    assert other.returncode == 1 and "a demo from another state folder" in other.stderr
    # 3. --force on the running demo: refused before the CA is touched.
    forced = demo(env, "--state", str(state), "--force")
    assert forced.returncode == 1 and "--force would replace" in forced.stderr
    assert (state / "tls" / "ca.crt").read_bytes() == ca_before
    # 4. Three runs side by side: each reuses the demo or is refused by the lock.
    side_by_side = [subprocess.Popen([sys.executable, "-m", "lab", "demo", "--state",
                                      str(state)], env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [(p.wait(timeout=120), p.communicate()[1]) for p in side_by_side]
    assert all(rc == 0 or (rc == 1 and "another demo (make demo) is running" in err)
               for rc, err in results), results
    assert any(rc == 0 for rc, _ in results)
    assert inventory(demo_id) == expected
    counts.append(points(state, url))
    # Telegraf kept writing throughout: every count at least the one before.
    assert counts == sorted(counts) and counts[0] > 0, counts
    print(f"points after each step: {counts}")


def test_an_interrupted_first_run_removes_what_it_made_and_keeps_the_state(demo_env):
    env, demo_id, root = demo_env
    state = root / "state"
    rc, err = interrupted_demo(env, "--state", str(state), after="influxd: starting")
    assert rc == 130 and "Traceback" not in err, err
    assert inventory(demo_id) == ([], [])
    assert (state / "tls" / "ca.crt").exists()  # the CA stays: clients may already trust it
    again = demo(env, "--state", str(state))
    assert again.returncode == 0 and "certificates: already in" in again.stdout
