"""`runbook install` as a careless user runs it, against a real server that reads
its pair (and, like influxd, its configuration) only when it starts: `openssl
s_server` for HTTPS, a Python HTTP server while the configuration has no
tls-cert. Each case runs the real `python -m runbook install` process and
checks what is served and what is on disk afterwards, not only the exit code.
The hook's own corpus (interrupt at each step, lock, rollback) runs the same
transaction through deploy-hook: tests/unit/test_deploy_hook.py,
test_hook_interrupts.py. Option-level mistakes are in test_hostile_inputs.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from runbook.errors import EXIT_INTERRUPTED
from runbook.poll import poll_until
from tests.signals import sigint_as_in_a_terminal
from tests.unit.test_deploy_hook import NAME, ROOT, STOP_SERVER, Site, serial_of

# A server that, like influxd, reads config.toml at start: HTTPS on tls-cert and
# tls-key when it names them, else plain HTTP. FAIL_TLS=1: exits 1 instead of
# starting on TLS (influxd that cannot read its key).
RESTART = """#!/bin/sh
{stop}echo $(( $(cat {count} 2>/dev/null || echo 0) + 1 )) > {count}
if grep -q '^tls-cert' {config}; then
  if [ "$FAIL_TLS" = 1 ]; then echo "Error: open server.key: permission denied" >&2; exit 1; fi
  openssl s_server -quiet -www -accept 127.0.0.1:{port} \\
    -cert {dest}/server.crt -key {dest}/server.key </dev/null >/dev/null 2>&1 &
else
  {python} -m http.server --bind 127.0.0.1 {port} </dev/null >/dev/null 2>&1 &
fi
echo $! > {pidfile}
"""

# `runbook install`, stopped at runbook.install.CHECKPOINT(step) until a signal.
DRIVER = """
import os, sys
from pathlib import Path
import runbook.install as transaction
def checkpoint(step):
    if step == os.environ["BLOCK_AT"]:
        Path(os.environ["REACHED"]).write_text(step)
        os.open(os.environ["FIFO"], os.O_RDONLY)  # no writer ever: blocks until the signal
transaction.CHECKPOINT = checkpoint
from runbook.cli import main
main(sys.argv[1:])
"""

TELEGRAF = """[agent]
  interval = "10s"

[[outputs.influxdb_v2]]
  urls = ["http://127.0.0.1:8086"]
  token = "${INFLUX_TOKEN}"
"""


class Host(Site):
    """The Site of test_deploy_hook.py, plus influxd's and Telegraf's files."""

    def __init__(self, tmp: Path, *, https: bool = True) -> None:
        self.config = tmp / "config.toml"
        self.config.write_text('bolt-path = "/var/lib/influxdb/influxd.bolt"\n'
                               + (f'tls-cert = "{tmp}/tls/server.crt"\n'
                                  f'tls-key = "{tmp}/tls/server.key"\n' if https else ""))
        self.telegraf = tmp / "telegraf.conf"
        self.telegraf.write_text(TELEGRAF)
        self.count = tmp / "restarts"
        super().__init__(tmp)
        self.restart_script.write_text(RESTART.format(
            pidfile=self.pidfile, count=self.count, config=self.config, port=self.port,
            dest=self.dest, python=sys.executable,
            stop=STOP_SERVER.format(pidfile=self.pidfile)))
        if https:
            self.restart()

    def restarts(self) -> int:
        return int(self.count.read_text()) if self.count.exists() else 0

    def args(self, cert: Path, key: Path, *extra: str) -> list[str]:
        return ["install", "--cert", str(cert), "--key", str(key), "--host", NAME,
                "--dest", str(self.dest), "--user", str(os.getuid()),
                "--url", f"https://127.0.0.1:{self.port}", "--ca", str(self.ca_file),
                "--restart-command", str(self.restart_script), "--restart-timeout", "20",
                "--verify-timeout", "5", *extra]

    def pair(self) -> tuple[Path, Path]:
        issued = self.issue()
        folder = self.tmp / f"new-{serial_of(issued)}"
        folder.mkdir()
        return issued.write(folder / "server.crt", folder / "server.key")

    def run(self, *args: str, env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "runbook", *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, **(env or {})})


@pytest.fixture
def host(tmp_path):
    h = Host(tmp_path)
    yield h
    h.stop()


def _serial_of_file(cert: Path) -> str:
    from runbook.tls.pem import load_certificates, serial_hex

    return serial_hex(load_certificates(cert)[0].serial_number)


def test_install_then_again_says_now_done_then_already_done(host):
    cert, key = host.pair()
    first = host.run(*host.args(cert, key, "--json"))
    assert first.returncode == 0, first.stderr
    done = json.loads(first.stdout)
    assert done["changed"] and done["serial"] == _serial_of_file(cert) == host.served_serial()
    assert done["previous_serial"] == serial_of(host.first)
    assert oct((host.dest / "server.key").stat().st_mode & 0o777) == "0o600"
    restarts = host.restarts()
    again = host.run(*host.args(cert, key))
    assert again.returncode == 0, again.stderr
    assert "already serves this certificate" in again.stdout and "nothing changed" in again.stdout
    assert host.restarts() == restarts, "a second run restarted the server"


def test_a_missing_key_file_changes_nothing(host):
    cert, _ = host.pair()
    before = sorted(p.name for p in host.dest.iterdir())
    done = host.run(*host.args(cert, host.tmp / "no.key"))
    assert done.returncode == 2 and done.stderr.startswith("ERROR: "), done.stderr
    assert "no.key" in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in host.dest.iterdir()) == before
    assert host.restarts() == 1


def test_a_key_that_does_not_match_is_refused_by_name_and_nothing_restarts(host):
    cert, _ = host.pair()
    _, other_key = host.pair()
    done = host.run(*host.args(cert, other_key, "--json"))
    assert done.returncode == 1
    error = json.loads(done.stdout)["error"]
    assert error["type"] == "InstallRefused" and "key-mismatch" in error["findings"]
    assert host.restarts() == 1 and host.served_serial() == serial_of(host.first)


def test_a_restart_that_fails_puts_the_previous_pair_back_and_it_is_served(host):
    cert, key = host.pair()
    fail_once = host.tmp / "fail-once.sh"
    fail_once.write_text(f"#!/bin/sh\nif [ ! -f {host.tmp}/failed ]; then touch {host.tmp}/failed;"
                         f" echo 'unit failed' >&2; exit 1; fi\nexec {host.restart_script}\n")
    fail_once.chmod(0o755)
    args = host.args(cert, key, "--json")
    args[args.index("--restart-command") + 1] = str(fail_once)
    done = host.run(*args)
    assert done.returncode == 1
    error = json.loads(done.stdout)["error"]
    assert error["type"] == "InstallRolledBack" and error["previous"] == "HTTPS", error
    assert "unit failed" in error["message"]
    assert host.served_serial() == serial_of(host.first)
    assert _serial_of_file(host.dest / "server.crt") == serial_of(host.first)


def test_a_server_that_never_answers_again_is_named_as_down(host):
    cert, key = host.pair()
    stop_only = host.tmp / "stop-only.sh"
    stop_only.write_text(f"#!/bin/sh\nkill $(cat {host.pidfile}) 2>/dev/null; exit 0\n")
    stop_only.chmod(0o755)
    args = host.args(cert, key)
    args[args.index("--restart-command") + 1] = str(stop_only)
    args[args.index("--verify-timeout") + 1] = "1"
    done = host.run(*args)
    assert done.returncode == 1
    assert "is back on disk but not served either" in done.stderr, done.stderr
    assert "influxd is down" in done.stderr
    assert _serial_of_file(host.dest / "server.crt") == serial_of(host.first)


def test_first_switch_to_https_edits_both_files_once_and_a_failure_puts_http_back(tmp_path):
    """From plain HTTP: a failed start on TLS puts config.toml back byte for byte and
    the server answers HTTP again; the next run switches influxd and Telegraf,
    each file edited once with a backup beside it; a third run changes nothing."""
    host = Host(tmp_path, https=False)
    try:
        host.restart_script.chmod(0o755)
        subprocess.run([str(host.restart_script)], check=True, timeout=30)
        config_before, telegraf_before = host.config.read_bytes(), host.telegraf.read_bytes()
        cert, key = host.pair()
        extra = ("--influxd-config", str(host.config), "--tls-min-version", "1.2",
                 "--telegraf-config", str(host.telegraf), "--telegraf-ca", str(host.ca_file),
                 "--telegraf-url", f"https://{NAME}:8086", "--json")
        failed = host.run(*host.args(cert, key, *extra), env={"FAIL_TLS": "1"})
        assert failed.returncode == 1, failed.stderr
        error = json.loads(failed.stdout)["error"]
        assert error["type"] == "InstallRolledBack" and error["previous"] == "HTTP", error
        assert "permission denied" in error["message"]
        assert host.config.read_bytes() == config_before
        assert host.telegraf.read_bytes() == telegraf_before
        assert not list(tmp_path.glob("*.before-https-*")), "a backup left after a rollback"

        done = host.run(*host.args(cert, key, *extra))
        assert done.returncode == 0, done.stderr + done.stdout
        edits = {Path(e["file"]).name: e for e in json.loads(done.stdout)["edits"]}
        assert set(edits) == {"config.toml", "telegraf.conf"}
        text = host.config.read_text()
        assert text.count("tls-cert") == 1 and 'tls-min-version = "1.2"' in text
        assert Path(edits["config.toml"]["backup"]).read_bytes() == config_before
        telegraf = host.telegraf.read_text()
        assert f'urls = ["https://{NAME}:8086"]' in telegraf and telegraf.count("tls_ca") == 1
        assert host.served_serial() == _serial_of_file(cert)

        again = host.run(*host.args(cert, key, *extra))
        assert json.loads(again.stdout)["changed"] is False, again.stdout
        assert len(list(tmp_path.glob("*.before-https-*"))) == 2
    finally:
        host.stop()


def test_ctrl_c_half_way_leaves_a_served_pair_and_a_rerun_converges(host):
    cert, key = host.pair()
    fifo, reached = host.tmp / "fifo", host.tmp / "reached"
    os.mkfifo(fifo)
    env = {**os.environ, "BLOCK_AT": "swapped", "FIFO": str(fifo), "REACHED": str(reached),
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, *host.args(cert, key)], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=sigint_as_in_a_terminal)
    try:
        poll_until(lambda: reached.exists() or proc.poll() is not None,
                   what="install to reach the swap", timeout=60, interval=0.02)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == EXIT_INTERRUPTED, err
    assert "Traceback" not in err
    # The served paths hold one complete pair (the new one: the swap was done).
    assert _serial_of_file(host.dest / "server.crt") == _serial_of_file(cert)
    rerun = host.run(*host.args(cert, key))
    assert rerun.returncode == 0, rerun.stderr
    assert host.served_serial() == _serial_of_file(cert)


def test_two_installs_at_once_end_with_the_disk_and_the_server_agreeing(host):
    pairs = [host.pair(), host.pair()]
    procs = [subprocess.Popen([sys.executable, "-m", "runbook", *host.args(c, k)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for c, k in pairs]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    served = host.served_serial()
    assert served in {_serial_of_file(c) for c, _ in pairs}
    assert _serial_of_file(host.dest / "server.crt") == served
