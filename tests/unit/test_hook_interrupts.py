"""deploy-hook interrupted at each step of its transaction, then run again (issue 28,
defects 1, 2 and the SIGTERM leftover of 9).

The hook runs as a real `python -m runbook deploy-hook` process against a real
`openssl s_server` that reads the served paths only when it starts (the Site of
test_deploy_hook.py). Each case stops the hook at one named step, with SIGINT
or SIGTERM sent by this test once the hook (or its restart command) says it has
reached that step and blocks there, reading a FIFO nobody writes. So the
signal lands at exactly that step, every run. After the interrupt, and again
after a rerun, the served paths must hold a matching pair, and the pair served
before the first run must be served or in previous/.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from runbook.errors import EXIT_INTERRUPTED, EXIT_TERMINATED
from runbook.poll import poll_until
from runbook.tls.pem import serial_hex
from tests.signals import sigint_as_in_a_terminal
from tests.unit.test_deploy_hook import NAME, ROOT, STOP_SERVER, Site, serial_of

# The hook itself, stopped at deploy_hook.CHECKPOINT(step): the checkpoint says
# where it is and blocks on the FIFO until the signal arrives.
DRIVER = """
import os, sys
from pathlib import Path
import runbook.deploy_hook as hook
state = Path(os.environ["HOOK_STATE"])
def checkpoint(step):
    if step == os.environ.get("HOOK_BLOCK_AT"):
        (state / "reached").write_text(step)
        os.open(state / "fifo", os.O_RDONLY)  # no writer ever: blocks until the signal
hook.CHECKPOINT = checkpoint
from runbook.cli import main
main(sys.argv[1:])
"""

# The restart command: stop the server, start it on dest's pair. Invocation N
# blocks at "N:before-stop", "N:stopped" or "N:started" when HOOK_BLOCK_AT says
# so; with FAIL_FIRST=1 the first invocation reports a failure (after starting
# the server on the new pair), so the hook rolls back and restarts again.
CONTROL = """#!/bin/sh
state="$HOOK_STATE"
n=$(( $(cat "$state/count" 2>/dev/null || echo 0) + 1 )); echo $n > "$state/count"
block() {{
  if [ "$n:$1" = "$HOOK_BLOCK_AT" ]; then
    echo "$n:$1" > "$state/reached"; read x < "$state/fifo"
  fi
}}
block before-stop
{stop}block stopped
openssl s_server -quiet -www -accept 127.0.0.1:{port} \\
  -cert {dest}/server.crt -key {dest}/server.key </dev/null >/dev/null 2>&1 &
echo $! > {pidfile}
block started
if [ "$FAIL_FIRST" = 1 ] && [ $n = 1 ]; then echo "unit failed" >&2; exit 1; fi
exit 0
"""

# (step, signal, first restart fails): every step where the hook changes
# something or waits, with each signal at least five times.
POINTS = [
    ("locked", signal.SIGINT, False),
    ("staged", signal.SIGTERM, False),
    ("committed", signal.SIGINT, False),
    ("linked-server.crt", signal.SIGTERM, False),  # old layout: cert a link, key a file
    ("adopted", signal.SIGTERM, False),
    ("previous-kept", signal.SIGINT, False),
    ("swapped", signal.SIGTERM, False),
    ("1:before-stop", signal.SIGINT, False),
    ("1:stopped", signal.SIGTERM, False),
    ("1:started", signal.SIGINT, False),
    ("restarted", signal.SIGTERM, False),
    ("verifying", signal.SIGINT, False),
    ("rolled-back", signal.SIGTERM, True),
    ("2:before-stop", signal.SIGINT, True),
    ("2:stopped", signal.SIGTERM, True),
    ("2:started", signal.SIGINT, True),
    ("swapped", signal.SIGINT, False),
    ("1:stopped", signal.SIGINT, False),
    ("staged", signal.SIGINT, False),
    ("verifying", signal.SIGTERM, False),
]


class Harness:
    def __init__(self, site: Site) -> None:
        self.site = site
        self.state = site.tmp / "hook-state"
        self.state.mkdir()
        os.mkfifo(self.state / "fifo")
        self.control = site.tmp / "control.sh"
        self.control.write_text(CONTROL.format(pidfile=site.pidfile, port=site.port,
                                               dest=site.dest,
                                               stop=STOP_SERVER.format(pidfile=site.pidfile)))
        self.control.chmod(0o755)
        self.old_cert, self.old_key = site.pair_bytes()

    def args(self, lineage: Path, restart: str) -> list[str]:
        return ["deploy-hook", "--host", NAME, "--lineage", str(lineage), "--dest",
                str(self.site.dest), "--user", str(os.getuid()), "--url",
                f"https://127.0.0.1:{self.site.port}", "--ca", str(self.site.ca_file),
                "--restart-command", restart, "--restart-timeout", "20",
                "--verify-timeout", "5"]

    def interrupt(self, lineage: Path, step: str, sig: int,
                  fail_first: bool) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "HOOK_STATE": str(self.state), "HOOK_BLOCK_AT": step,
               "FAIL_FIRST": "1" if fail_first else "0", "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen([sys.executable, "-c", DRIVER,
                                 *self.args(lineage, str(self.control))],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                preexec_fn=sigint_as_in_a_terminal)
        reached = self.state / "reached"
        try:
            poll_until(lambda: reached.exists() and reached.read_text().strip() == step
                       or proc.poll() is not None,
                       what=f"the hook to reach step {step}", timeout=60, interval=0.02)
            assert proc.poll() is None, f"the hook ended before {step}: {proc.communicate()}"
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    def rerun(self, lineage: Path, restart: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "runbook", *self.args(lineage, restart)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)

    def assert_safe(self) -> None:
        """The served paths hold a matching pair; the old pair is served or in previous/."""
        dest = self.site.dest
        cert = x509.load_pem_x509_certificate((dest / "server.crt").read_bytes())
        key = serialization.load_pem_private_key((dest / "server.key").read_bytes(), None)
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        assert (cert.public_key().public_bytes(serialization.Encoding.DER, spki)
                == key.public_key().public_bytes(serialization.Encoding.DER, spki)), (
            "the served paths hold a key and a certificate that do not match")
        old = (self.old_cert, self.old_key)
        kept = [self.site.pair_bytes()]
        if (dest / "previous").exists():
            kept.append(((dest / "previous" / "server.crt").read_bytes(),
                         (dest / "previous" / "server.key").read_bytes()))
        assert old in kept, "the pair served before the hook is neither served nor in previous/"
        leftovers = list(dest.glob(".pairs/.new-*")) + list(dest.glob(".new-*"))
        assert not leftovers, f"a half-written pair (with a key copy) is left: {leftovers}"


@pytest.fixture
def harness(tmp_path):
    site = Site(tmp_path)
    yield Harness(site)
    site.stop()


@pytest.mark.parametrize("step, sig, fail_first", POINTS,
                         ids=[f"{s}-{signal.Signals(g).name}" for s, g, _ in POINTS])
def test_an_interrupt_at_each_step_then_a_rerun_converges(harness, step, sig, fail_first):
    site = harness.site
    renewed = site.issue()
    lineage = site.lineage(renewed)
    stopped = harness.interrupt(lineage, step, sig, fail_first)
    expected = EXIT_INTERRUPTED if sig == signal.SIGINT else EXIT_TERMINATED
    assert stopped.returncode == expected, stopped.stderr
    assert stopped.stderr.startswith("ERROR: ") and "Traceback" not in stopped.stderr
    harness.assert_safe()

    again = harness.rerun(lineage, str(site.restart_script))
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"serial {serial_of(renewed)}" in again.stdout
    harness.assert_safe()
    assert site.served_serial() == serial_of(renewed)
    assert site.pair_bytes() == (renewed.cert_pem(with_chain=True), renewed.key_pem())
    assert (site.dest / "previous" / "server.crt").read_bytes() == harness.old_cert


def test_ctrl_c_in_the_restart_then_a_rerun_that_restarts_nothing_keeps_the_old_pair(harness):
    """Defect 1 as the issue reproduces it: Ctrl-C while the restart command
    sleeps before restarting, then the advised rerun with a restart that does
    nothing. The old pair is still served; the rerun must keep it in previous/,
    put it back, and say so from a probe."""
    site = harness.site
    renewed = site.issue()
    lineage = site.lineage(renewed)
    stopped = harness.interrupt(lineage, "1:before-stop", signal.SIGINT, False)
    assert stopped.returncode == EXIT_INTERRUPTED, stopped.stderr
    again = harness.rerun(lineage, "true")
    assert again.returncode == 1, again.stdout + again.stderr
    first = again.stderr.splitlines()[0]
    assert f"the previous one (serial {serial_of(site.first)}) is served again" in first, first
    assert site.pair_bytes() == (harness.old_cert, harness.old_key)
    assert (site.dest / "previous" / "server.crt").read_bytes() == harness.old_cert
    assert site.served_serial() == serial_of(site.first)


def test_a_rerun_after_the_old_two_rename_swap_keeps_previous_and_rolls_back(harness):
    """Defect 2: the old hook replaced the key, then the certificate; an
    interrupt between the two left the new key beside the old certificate, with
    the old pair in a real previous/ folder and still served. A rerun must not
    delete previous/ before checking it: it is the served pair, the rollback
    target."""
    site = harness.site
    dest = site.dest
    (dest / "previous").mkdir()
    (dest / "previous" / "server.crt").write_bytes(harness.old_cert)
    (dest / "previous" / "server.key").write_bytes(harness.old_key)
    (dest / "previous" / "server.key").chmod(0o600)
    renewed = site.issue()
    (dest / "server.key").write_bytes(renewed.key_pem())  # the first of the two renames
    again = harness.rerun(site.lineage(renewed), "true")
    assert again.returncode == 1, again.stdout + again.stderr
    assert f"(serial {serial_of(site.first)}) is served again" in again.stderr
    assert site.pair_bytes() == (harness.old_cert, harness.old_key)
    assert (dest / "previous" / "server.crt").read_bytes() == harness.old_cert
    assert site.served_serial() == serial_of(site.first)


def test_the_served_paths_are_links_through_one_link_swapped_by_one_rename(harness):
    site = harness.site
    renewed = site.issue()
    again = harness.rerun(site.lineage(renewed), str(site.restart_script))
    assert again.returncode == 0, again.stderr
    dest = site.dest
    assert os.readlink(dest / "server.crt") == ".live/server.crt"
    assert os.readlink(dest / "server.key") == ".live/server.key"
    live = os.readlink(dest / ".live")
    assert live.startswith(".pairs/") and serial_hex(renewed.cert.serial_number) in live
    assert (dest / "previous").is_symlink()
    key = (dest / "server.key").stat()
    assert (key.st_mode & 0o777, key.st_uid) == (0o600, os.getuid())
