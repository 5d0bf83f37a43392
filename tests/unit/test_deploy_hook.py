"""runbook deploy-hook and runbook probe --compare-files against a real TLS
server that, like influxd, reads its pair only when it starts: `openssl
s_server`, restarted by the hook's restart command. No Docker needed; the
same hook against real influxd and certbot is in tests/integration/test_acme.py.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509

from runbook.deploy_hook import HookPlan, HookRefused, HookRolledBack, RollbackFailed, deploy
from runbook.poll import poll_until
from runbook.tls import certs
from runbook.tls.pem import serial_hex
from runbook.tls.probe import compare_with_file, served_leaf

NAME = "influxdb.example.test"
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Stop the server the last restart started, and wait until it is gone. An
# earlier restart script started it, so it is an orphan: after it exits it
# stays a zombie until init reaps it (about 1.5 s on these machines), and
# `kill -0` still finds it; a wait for that spun a core for every restart.
# A zombie holds no port, so the wait ends at state Z or when /proc has no entry.
STOP_SERVER = """p=$(cat {pidfile} 2>/dev/null) && kill "$p" 2>/dev/null
while [ -n "$p" ] && s=$(cut -d' ' -f3 /proc/"$p"/stat 2>/dev/null) && [ "$s" != Z ]; do :; done
"""


class Site:
    """A CA clients trust, a served pair in `dest`, and a server reading it at start.

    Its keys are ECDSA P-256, as certbot makes by default since 2.0: what the
    hook meets most, and a hundred times quicker to make than RSA 2048 (these
    tests issue hundreds of pairs; RSA took 22 CPU-s of them)."""

    KEY_TYPE = "p256"

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.ca = certs.CA.create(key_type=self.KEY_TYPE)
        self.ca_file = tmp / "ca.pem"
        self.ca_file.write_bytes(self.ca.cert_pem())
        self.dest = tmp / "tls"
        self.dest.mkdir()
        self.port = _free_port()
        self.pidfile = tmp / "server.pid"
        self.restart_script = tmp / "restart.sh"
        # The restart command: stop the server, start it again on the files in
        # dest (it reads them once, at start, as influxd does), return at once.
        stop = STOP_SERVER.format(pidfile=self.pidfile)
        self.restart_script.write_text(f"""#!/bin/sh
{stop}openssl s_server -quiet -www -accept 127.0.0.1:{self.port} \\
  -cert {self.dest}/server.crt -key {self.dest}/server.key </dev/null >/dev/null 2>&1 &
echo $! > {self.pidfile}
""")
        self.restart_script.chmod(0o755)
        self.first = self.issue()
        self.first.write(self.dest / "server.crt", self.dest / "server.key")
        self.restart()

    def issue(self, sans: tuple[str, ...] = (NAME,),
              days: int = certs.DEFAULT_LEAF_DAYS) -> certs.Issued:
        return self.ca.issue(list(sans), key_type=self.KEY_TYPE, days=days)

    def restart(self) -> None:
        subprocess.run([str(self.restart_script)], check=True, timeout=30)
        poll_until(self.served_serial, what=f"openssl s_server on port {self.port}", timeout=15)

    def served_serial(self) -> str:
        der = served_leaf(f"https://127.0.0.1:{self.port}", ca_file=str(self.ca_file),
                          server_name=NAME, timeout=2)
        return serial_hex(x509.load_der_x509_certificate(der).serial_number)

    def lineage(self, issued: certs.Issued, *, key_pem: bytes | None = None) -> Path:
        """A certbot live/NAME folder holding `issued` (or another key)."""
        live = self.tmp / f"live-{issued.cert.serial_number:x}"
        live.mkdir()
        (live / "fullchain.pem").write_bytes(issued.cert_pem(with_chain=True))
        key = live / "privkey.pem"
        key.touch(mode=0o600)
        key.write_bytes(key_pem if key_pem is not None else issued.key_pem())
        return live

    def plan(self, lineage: Path, restart: list[str] | None = None, *,
             verify_timeout: float = 10) -> HookPlan:
        return HookPlan(lineage=lineage, host=NAME, owner=(os.getuid(), os.getgid()),
                        dest=self.dest, url=f"https://127.0.0.1:{self.port}",
                        restart=restart or [str(self.restart_script)],
                        ca_file=str(self.ca_file), restart_timeout=30,
                        verify_timeout=verify_timeout)

    def plan_restarting_nothing(self, lineage: Path) -> HookPlan:
        # `true` leaves the old serial served, so the wait for the new one can
        # only end at its deadline: a short deadline proves it as well.
        return self.plan(lineage, restart=["true"], verify_timeout=1.5)

    def pair_bytes(self) -> tuple[bytes, bytes]:
        return (self.dest / "server.crt").read_bytes(), (self.dest / "server.key").read_bytes()

    def stop(self) -> None:
        if self.pidfile.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(self.pidfile.read_text()), signal.SIGTERM)


@pytest.fixture
def site(tmp_path):
    s = Site(tmp_path)
    yield s
    s.stop()


def serial_of(issued: certs.Issued) -> str:
    return serial_hex(issued.cert.serial_number)


def test_renewed_pair_is_installed_with_a_private_key_served_and_the_old_one_kept(site):
    renewed = site.issue()
    result = deploy(site.plan(site.lineage(renewed)))
    assert result.serial == serial_of(renewed) == site.served_serial()
    assert result.previous_serial == serial_of(site.first)
    key = (site.dest / "server.key").stat()
    assert (key.st_mode & 0o777, key.st_uid) == (0o600, os.getuid())
    assert (site.dest / "previous" / "server.crt").read_bytes() == site.first.cert_pem(
        with_chain=True)
    assert oct((site.dest / "previous" / "server.key").stat().st_mode & 0o777) == "0o600"
    assert not list(site.dest.glob(".new-*")), "the staging folder is left behind"


@pytest.mark.parametrize("bad, finding", [
    ("mismatched pair", "key-mismatch"),
    ("encrypted key", "key-encrypted"),
    ("wrong host", "host-not-covered"),
])
def test_bad_pair_is_refused_by_name_and_the_served_certificate_untouched(site, bad, finding):
    renewed = site.issue(("other.example.test",) if bad == "wrong host" else (NAME,))
    key_pem = {"mismatched pair": site.issue().key_pem(),
               "encrypted key": renewed.key_pem(passphrase=b"secret")}.get(bad)
    before = site.pair_bytes()
    with pytest.raises(HookRefused) as refused:
        deploy(site.plan(site.lineage(renewed, key_pem=key_pem)))
    assert finding in refused.value.findings
    assert f"[{finding}]" in refused.value.message
    assert "untouched" in refused.value.message
    assert site.pair_bytes() == before
    assert site.served_serial() == serial_of(site.first)
    assert not list(site.dest.glob(".new-*"))


def test_failed_restart_puts_the_previous_pair_back_and_it_is_served_again(site):
    renewed = site.issue()
    before = site.pair_bytes()
    # The restart really restarts the server on the new pair, then reports a
    # failure, once (a unit that failed, then came up): the rollback's restart works.
    once = site.tmp / "fail-once"
    once.touch()
    failing = ["sh", "-c", f"{site.restart_script}; if [ -e {once} ]; then rm {once}; "
               "echo 'unit failed' >&2; exit 1; fi"]
    with pytest.raises(HookRolledBack) as rolled:
        deploy(site.plan(site.lineage(renewed), restart=failing))
    assert f"serial {serial_of(renewed)}) is not served" in rolled.value.message
    assert "exited 1: unit failed" in rolled.value.message
    assert f"serial {serial_of(site.first)}) is served again" in rolled.value.message
    assert site.pair_bytes() == before
    assert site.served_serial() == serial_of(site.first)


def test_restart_that_always_fails_is_reported_with_both_serials(site):
    renewed = site.issue()
    failing = ["sh", "-c", f"{site.restart_script}; exit 1"]
    with pytest.raises(RollbackFailed) as failed:
        deploy(site.plan(site.lineage(renewed), restart=failing))
    assert f"(serial {serial_of(renewed)}) is not served" in failed.value.message
    assert f"(serial {serial_of(site.first)}) is back on disk but not served" in (
        failed.value.message)


def test_new_certificate_not_served_is_rolled_back(site):
    renewed = site.issue()
    before = site.pair_bytes()
    # A restart command that restarts nothing: the old certificate stays served,
    # so the serial check fails and the previous pair goes back.
    with pytest.raises(HookRolledBack) as rolled:
        deploy(site.plan_restarting_nothing(site.lineage(renewed)))
    assert f"to serve serial {serial_of(renewed)}" in rolled.value.message
    assert site.pair_bytes() == before
    assert site.served_serial() == serial_of(site.first)


def test_first_issuance_that_is_not_served_says_there_is_nothing_to_restore(site):
    for name in ("server.crt", "server.key"):
        (site.dest / name).unlink()
    with pytest.raises(RollbackFailed, match="no previous pair .* to put back"):
        deploy(site.plan_restarting_nothing(site.lineage(site.issue())))


def test_a_pair_in_service_that_fails_the_gate_is_never_kept_for_a_rollback(site):
    # The served certificate, put back beside a key that is not its own (as
    # after a botched manual fix): a rollback to it would leave influxd down.
    stray = site.issue()
    (site.dest / "server.key").write_bytes(stray.key_pem())
    (site.dest / "previous").mkdir()
    (site.dest / "previous" / "stale").write_text("an older run's pair")
    with pytest.raises(RollbackFailed, match="no previous pair .* to put back"):
        deploy(site.plan_restarting_nothing(site.lineage(site.issue())))
    assert not (site.dest / "previous").exists()


def test_compare_files_names_a_served_certificate_older_than_the_file(site):
    # Issued within the same second as the first: it is newer by its expiry.
    renewed = site.issue(days=certs.DEFAULT_LEAF_DAYS + 1)
    renewed.write(site.dest / "server.crt", site.dest / "server.key", overwrite=True)
    der = served_leaf(f"https://127.0.0.1:{site.port}", ca_file=str(site.ca_file),
                      server_name=NAME)
    compared = compare_with_file(der, str(site.dest / "server.crt"))
    assert compared["finding"]["id"] == "served-cert-older"  # type: ignore[index]
    assert compared["served_serial"] == serial_of(site.first)
    assert compared["file_serial"] == serial_of(renewed)
    site.restart()
    der = served_leaf(f"https://127.0.0.1:{site.port}", ca_file=str(site.ca_file),
                      server_name=NAME)
    assert compare_with_file(der, str(site.dest / "server.crt"))["finding"] is None


def _runbook(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runbook", *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, **(env or {})})


def test_probe_compare_files_exits_1_with_the_finding_until_restarted(site):
    renewed = site.issue(days=certs.DEFAULT_LEAF_DAYS + 1)
    renewed.write(site.dest / "server.crt", site.dest / "server.key", overwrite=True)
    args = ["probe", f"https://127.0.0.1:{site.port}", "--server-name", NAME,
            "--ca", str(site.ca_file), "--compare-files", str(site.dest / "server.crt")]
    stale = _runbook(*args)
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "ERROR [served-cert-older] influxd serves an older certificate" in stale.stdout
    site.restart()
    fresh = _runbook(*args)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert f"(serial {serial_of(renewed)})" in fresh.stdout


def test_cli_hook_reads_renewed_lineage_and_refuses_with_one_error_line(site):
    common = ["deploy-hook", "--host", NAME, "--dest", str(site.dest), "--user",
              str(os.getuid()), "--url", f"https://127.0.0.1:{site.port}", "--ca",
              str(site.ca_file), "--restart-command", str(site.restart_script)]
    renewed = site.issue()
    ok = _runbook(*common, env={"RENEWED_LINEAGE": str(site.lineage(renewed))})
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"influxd serves the new certificate: serial {serial_of(renewed)}" in ok.stdout
    assert site.served_serial() == serial_of(renewed)

    bad = site.issue()
    refused = _runbook(*common, env={"RENEWED_LINEAGE": str(
        site.lineage(bad, key_pem=site.issue().key_pem()))})
    assert refused.returncode == 1
    first = refused.stderr.splitlines()[0]
    assert first.startswith("ERROR: refused the new pair from ") and "[key-mismatch]" in first
    assert "Traceback" not in refused.stderr
    assert site.served_serial() == serial_of(renewed)


def test_compare_files_with_a_file_older_than_the_served_certificate_says_it_differs(site):
    older_file = site.tmp / "older.crt"
    older_file.write_bytes(site.first.cert_pem())
    site.issue(days=certs.DEFAULT_LEAF_DAYS + 1).write(
        site.dest / "server.crt", site.dest / "server.key", overwrite=True)
    site.restart()
    der = served_leaf(f"https://127.0.0.1:{site.port}", ca_file=str(site.ca_file),
                      server_name=NAME)
    finding = compare_with_file(der, str(older_file))["finding"]
    assert finding["id"] == "served-cert-differs"  # type: ignore[index]


def test_cli_hook_without_renewed_lineage_is_a_usage_error_before_anything_is_touched(site):
    env = {k: v for k, v in os.environ.items() if k != "RENEWED_LINEAGE"}
    proc = subprocess.run([sys.executable, "-m", "runbook", "deploy-hook", "--host", NAME,
                           "--dest", str(site.dest)], capture_output=True, text=True,
                          timeout=60, cwd=ROOT, env=env)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == ("ERROR: RENEWED_LINEAGE is not set and --lineage "
                                           "is not given")
    assert site.served_serial() == serial_of(site.first)


def test_cli_hook_with_a_missing_lineage_names_the_file(site):
    proc = _runbook("deploy-hook", "--host", NAME, "--dest", str(site.dest), "--user",
                    str(os.getuid()), "--lineage", str(site.tmp / "no-such-lineage"))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("ERROR: ") and "no-such-lineage/fullchain.pem" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list(site.dest.glob(".new-*"))


def test_a_self_signed_pair_in_service_is_kept_for_a_rollback_though_no_client_trusts_it(site):
    # configure.md leaves a self-signed pair: influxd loads it, so a rollback
    # to it is a working server, and the hook keeps it.
    certs.self_signed([NAME]).write(site.dest / "server.crt", site.dest / "server.key",
                                    overwrite=True)
    with pytest.raises(RollbackFailed, match="is back on disk but not served"):
        deploy(site.plan_restarting_nothing(site.lineage(site.issue())))


# --- issue 28: input first, one hook at a time, a restart that leaves a child --------

@pytest.mark.parametrize("option, value, named", [
    ("--url", "http://127.0.0.1:8086", "https://"),
    ("--url", "https://127.0.0.1:99999", "bad URL"),
    ("--url", "https://:8086", "no host"),
    ("--url", "https://[x]:8086", "bad URL"),
    ("--host", "", "--host is empty"),
    ("--host", "a..b", "not valid"),
    ("--verify-timeout", "nan", "not a finite number"),
    ("--restart-timeout", "inf", "--restart-timeout"),
])
def test_a_bad_option_is_refused_before_anything_changes(site, option, value, named):
    """Defect 4 (and the nan of 7): refused with exit 2 before the swap and the
    restarts, not found after them as "influxd is down"."""
    marker = site.tmp / "restarted"
    args = {"--host": NAME, "--url": f"https://127.0.0.1:{site.port}",
            "--verify-timeout": "5", "--restart-timeout": "20", option: value}
    before = sorted(p.name for p in site.dest.iterdir())
    proc = _runbook("deploy-hook", "--lineage", str(site.lineage(site.issue())),
                    "--dest", str(site.dest), "--user", str(os.getuid()),
                    "--ca", str(site.ca_file), "--restart-command", f"touch {marker}",
                    *[x for kv in args.items() for x in kv])
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("ERROR: ") and named in proc.stderr, proc.stderr
    assert not marker.exists(), "the restart command ran"
    assert sorted(p.name for p in site.dest.iterdir()) == before
    assert site.served_serial() == serial_of(site.first)


def test_a_second_hook_on_the_same_folder_waits_for_the_lock_then_says_who_holds_it(site):
    """Defect 5: hooks on one --dest are serialized; one that cannot get the lock
    in time changes nothing and names the holder."""
    import fcntl

    from runbook.deploy_hook import HookBusy

    before = site.pair_bytes()
    with open(site.dest / ".deploy-hook.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("4242\n")
        held.flush()
        plan = site.plan(site.lineage(site.issue()))
        plan.lock_timeout = 0.5
        with pytest.raises(HookBusy, match=r"another install or deploy hook \(pid 4242\) holds"):
            deploy(plan)
    assert site.pair_bytes() == before
    assert not (site.dest / ".pairs").exists()


def test_two_hooks_at_once_end_with_the_disk_and_the_server_agreeing(site):
    """Defect 5: two hooks started together. Each one that says it serves a serial
    said so while it held the lock; the last one's serial is on disk and served,
    and previous/ holds the pair served before it."""
    common = ["deploy-hook", "--host", NAME, "--dest", str(site.dest), "--user",
              str(os.getuid()), "--url", f"https://127.0.0.1:{site.port}", "--ca",
              str(site.ca_file), "--restart-command", str(site.restart_script)]
    a, b = site.issue(), site.issue()
    procs = {serial_of(x): subprocess.Popen(
        [sys.executable, "-m", "runbook", *common, "--lineage", str(site.lineage(x))],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for x in (a, b)}
    finished: list[str] = []

    def both_done() -> bool:
        for serial, proc in procs.items():
            if serial not in finished and proc.poll() is not None:
                finished.append(serial)
        return len(finished) == 2

    poll_until(both_done, what="both hooks to end", timeout=120, interval=0.02)
    for serial, proc in procs.items():
        out, err = proc.communicate()
        assert proc.returncode == 0, err
        assert f"serves the new certificate: serial {serial}" in out
    last, first = finished[1], finished[0]
    assert site.served_serial() == last
    assert _serial_in(site.dest / "server.crt") == last
    assert _serial_in(site.dest / "previous" / "server.crt") == first


def _serial_in(path) -> str:
    return serial_hex(x509.load_pem_x509_certificate(path.read_bytes()).serial_number)


def test_a_restart_command_that_leaves_a_child_holding_its_output_is_not_a_hang(site):
    """Defect 6: a wrapper that starts influxd in the background (`influxd &`)
    returns, while its child keeps standard output open. The hook waits for the
    command's exit, not for the end of its output."""
    child = site.tmp / "child.pid"
    # `sleep 60 &` is not a wait: it stands in for `influxd &`, a child that
    # outlives the restart command and holds its output open (killed below).
    restart = ["sh", "-c", f"{site.restart_script}; sleep 60 & echo $! > {child}"]
    renewed = site.issue()
    plan = site.plan(site.lineage(renewed), restart=restart)
    plan.restart_timeout = 5
    try:
        result = deploy(plan)
    finally:
        if child.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(child.read_text()), signal.SIGTERM)
    assert result.serial == serial_of(renewed) == site.served_serial()


def test_a_failed_rollback_says_what_a_probe_finds_served(site):
    """Defect 9: the rollback probes before it says what is served."""
    renewed = site.issue()
    failing = ["sh", "-c", f"{site.restart_script}; exit 1"]
    with pytest.raises(RollbackFailed) as failed:
        deploy(site.plan(site.lineage(renewed), restart=failing))
    message = failed.value.message
    assert f"a probe now: https://127.0.0.1:{site.port} serves serial " in message
    assert failed.value.fix.startswith("influxd serves ")
