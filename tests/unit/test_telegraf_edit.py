"""`runbook telegraf-config --edit`: the reader's own telegraf.conf switched to
HTTPS in place, everything else kept; refusals named, nothing half-written."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest

from runbook.telegraf_edit import EditRefused, edit_file, switch_to_https

CA = "/etc/ssl/influxdb/ca.crt"

READER = '''# The reader's own Telegraf: comments, inputs and outputs that are not ours.
[agent]
  interval = "10s"

[[inputs.cpu]]
  percpu = true  # keep this comment

[[outputs.file]]
  files = ["/var/log/telegraf/metrics.out"]

# InfluxDB on this host
[[outputs.influxdb_v2]]
  urls = [
    "http://localhost:8086",
    "http://127.0.0.1:8086",
  ]
  token = "${INFLUX_TOKEN}"  # from /etc/default/telegraf
  organization = "acme"
  bucket = "metrics"

[[inputs.prometheus]]
  urls = ["http://localhost:9100/metrics"]
'''


def _run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runbook", "telegraf-config", *args],
                          capture_output=True, text=True, timeout=timeout)


def _others(text: str) -> dict:
    doc = tomllib.loads(text)
    doc["outputs"].pop("influxdb_v2")
    return doc


def test_only_the_influxdb_v2_output_changes_and_comments_stay():
    edit = switch_to_https(READER, ca_file=CA)
    after = tomllib.loads(edit.text)
    out = after["outputs"]["influxdb_v2"][0]
    assert out["urls"] == ["https://localhost:8086", "https://127.0.0.1:8086"]
    assert out["tls_ca"] == CA
    assert _others(edit.text) == _others(READER)  # cpu, file, prometheus (its http URL too)
    assert after["inputs"]["prometheus"][0]["urls"] == ["http://localhost:9100/metrics"]
    for comment in ("# keep this comment", "# from /etc/default/telegraf", "# InfluxDB on"):
        assert comment in edit.text
    assert '  tls_ca = "/etc/ssl/influxdb/ca.crt"' in edit.text  # lined up with urls


def test_a_second_run_changes_nothing():
    once = switch_to_https(READER, ca_file=CA)
    twice = switch_to_https(once.text, ca_file=CA)
    assert twice.changes == [] and twice.text == once.text


def test_skip_verify_goes_when_a_ca_is_given():
    text = '[[outputs.influxdb_v2]]\n  urls = ["https://h:8086"]\n  insecure_skip_verify = true\n'
    edit = switch_to_https(text, ca_file=CA)
    out = tomllib.loads(edit.text)["outputs"]["influxdb_v2"][0]
    assert "insecure_skip_verify" not in out and out["tls_ca"] == CA


# Bad input: (name, file text, finding). Each is refused, by name, and the
# file is left byte for byte as it was.
BAD = [
    ("two-outputs", READER + '[[outputs.influxdb_v2]]\n  urls = ["http://other:8086"]\n',
     "telegraf-several-influxdb-v2"),
    ("no-output", '[[inputs.cpu]]\n[[outputs.file]]\n  files = ["stdout"]\n',
     "telegraf-no-influxdb-v2"),
    ("empty", "", "telegraf-no-influxdb-v2"),
    ("syntax-error", READER.replace('bucket = "metrics"', 'bucket = "metrics'),
     "telegraf-not-toml"),
    ("single-table", '[outputs.influxdb_v2]\n  urls = ["http://h:8086"]\n', "telegraf-bad-shape"),
    ("urls-string", '[[outputs.influxdb_v2]]\n  urls = "http://h:8086"\n', "telegraf-bad-urls"),
    ("urls-missing", '[[outputs.influxdb_v2]]\n  token = "x"\n', "telegraf-bad-urls"),
    ("udp-url", '[[outputs.influxdb_v2]]\n  urls = ["udp://h:8089"]\n', "telegraf-bad-urls"),
    ("not-utf8", None, "telegraf-not-toml"),
    ("deep-nesting", "a = " + "[" * 5000 + "]" * 5000 + "\n", None),
]


@pytest.mark.parametrize("name,text,finding", BAD, ids=[b[0] for b in BAD])
def test_bad_files_are_refused_by_name_and_left_untouched(tmp_path, name, text, finding):
    conf = tmp_path / "telegraf.conf"
    data = b"\xff\xfe[[outputs.influxdb_v2]]\n" if text is None else text.encode()
    conf.write_bytes(data)
    proc = _run("--edit", str(conf), "--ca", CA)
    assert proc.returncode == 2, proc
    assert "Traceback" not in proc.stderr
    if finding:
        assert f"[{finding}]" in proc.stderr, proc.stderr
    assert "fix:" in proc.stderr
    assert conf.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["telegraf.conf"]  # no backup, no temp


def test_a_read_only_file_is_refused_even_for_root(tmp_path):
    conf = tmp_path / "telegraf.conf"
    conf.write_text(READER)
    conf.chmod(0o444)
    proc = _run("--edit", str(conf), "--ca", CA)
    assert proc.returncode == 2 and "[telegraf-read-only]" in proc.stderr, proc
    assert conf.read_text() == READER and len(list(tmp_path.iterdir())) == 1


@pytest.mark.parametrize("check", [[], ["--check"]], ids=["edit", "check"])
@pytest.mark.parametrize("kind", ["fifo", "directory", "missing", "dev-zero"])
def test_special_paths_get_a_named_error_and_no_hang(tmp_path, kind, check):
    path = {"fifo": tmp_path / "fifo", "directory": tmp_path,
            "missing": tmp_path / "nope.conf", "dev-zero": Path("/dev/zero")}[kind]
    if kind == "fifo":
        os.mkfifo(path)
    proc = _run("--edit", str(path), "--ca", CA, *check, timeout=15)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc
    assert "error" in proc.stderr.lower()


def test_a_huge_file_is_refused_before_it_is_read(tmp_path):
    conf = tmp_path / "telegraf.conf"
    with open(conf, "wb") as fh:
        fh.truncate(64 * 1024 * 1024)  # sparse: 64 MiB of nothing
    proc = _run("--edit", str(conf), "--ca", CA)
    assert proc.returncode == 2 and "limit" in proc.stderr, proc


def test_the_edit_keeps_mode_owner_and_a_copy_of_the_original(tmp_path):
    conf = tmp_path / "telegraf.conf"
    conf.write_text(READER)
    conf.chmod(0o640)
    os.chown(conf, 0, 65534) if os.geteuid() == 0 else None
    before = os.stat(conf)
    proc = _run("--edit", str(conf), "--ca", CA)
    assert proc.returncode == 0, proc
    after = os.stat(conf)
    assert stat.S_IMODE(after.st_mode) == 0o640
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
    [backup] = [p for p in tmp_path.iterdir() if p.name != "telegraf.conf"]
    assert backup.name.startswith("telegraf.conf.before-https-")
    assert backup.read_text() == READER and stat.S_IMODE(backup.stat().st_mode) == 0o640
    again = _run("--edit", str(conf), "--ca", CA)
    assert again.returncode == 0 and again.stdout.startswith("unchanged:"), again
    assert len(list(tmp_path.iterdir())) == 2  # the second run wrote no second copy


def test_a_symlinked_config_is_edited_where_it_points(tmp_path):
    real = tmp_path / "real.conf"
    real.write_text(READER)
    link = tmp_path / "telegraf.conf"
    link.symlink_to(real)
    assert edit_file(link, ca_file=CA).changes
    assert link.is_symlink() and "https://localhost:8086" in real.read_text()


def test_two_runs_side_by_side_leave_one_edit_and_one_copy(tmp_path):
    conf = tmp_path / "telegraf.conf"
    conf.write_text(READER)
    results: list[object] = []

    def one() -> None:
        try:
            results.append(edit_file(conf, ca_file=CA))
        except EditRefused as exc:
            results.append(exc)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert tomllib.loads(conf.read_text())["outputs"]["influxdb_v2"][0]["tls_ca"] == CA
    copies = [p for p in tmp_path.iterdir() if ".before-https-" in p.name]
    assert all(p.read_text() == READER for p in copies)
    # A run that lost the race either found nothing to do or was refused by name.
    assert all(getattr(r, "finding", "telegraf-changed-meanwhile") == "telegraf-changed-meanwhile"
               for r in results if isinstance(r, EditRefused))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_ctrl_c_before_the_edit_leaves_the_file_whole(tmp_path):
    conf = tmp_path / "telegraf.conf"
    conf.write_text(READER)
    proc = subprocess.Popen([sys.executable, "-m", "runbook", "telegraf-config", "--edit",
                             str(conf), "--ca", CA], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert "Traceback" not in err, err
    text = conf.read_text()
    assert text == READER or tomllib.loads(text)["outputs"]["influxdb_v2"][0]["tls_ca"] == CA
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("args", [["--lint", "x"], ["--insecure-skip-verify"], []])
def test_edit_needs_a_ca_and_nothing_contradictory(tmp_path, args):
    conf = tmp_path / "telegraf.conf"
    conf.write_text(READER)
    ca = [] if args == [] else ["--ca", CA]
    proc = _run("--edit", str(conf), *ca, *args)
    assert proc.returncode == 2 and "--edit needs --ca" in proc.stderr, proc
    assert conf.read_text() == READER


def test_check_says_what_the_edit_would_change_and_writes_nothing(tmp_path):
    conf = tmp_path / "telegraf.conf"
    conf.write_text(READER)
    proc = _run("--edit", str(conf), "--ca", CA, "--check")
    assert proc.returncode == 0, proc
    assert proc.stdout.splitlines() == [
        f"--edit would change {conf} (--check: nothing was written):",
        "  urls: http://localhost:8086 -> https://localhost:8086",
        "  urls: http://127.0.0.1:8086 -> https://127.0.0.1:8086",
        f"  tls_ca: set to {CA}"]
    assert conf.read_text() == READER
    assert [p.name for p in tmp_path.iterdir()] == ["telegraf.conf"]  # no backup, no temp


@pytest.mark.parametrize("name,text,finding", [b for b in BAD if b[2]],
                         ids=[b[0] for b in BAD if b[2]])
def test_check_refuses_exactly_what_the_edit_refuses(tmp_path, name, text, finding):
    """The Ansible role's preflight runs --check on every host before any
    changes: a file it passes must be one the rollout's edit can switch."""
    conf = tmp_path / "telegraf.conf"
    data = b"\xff\xfe[[outputs.influxdb_v2]]\n" if text is None else text.encode()
    conf.write_bytes(data)
    checked = _run("--edit", str(conf), "--ca", CA, "--check")
    edited = _run("--edit", str(conf), "--ca", CA)
    assert checked.returncode == edited.returncode == 2, (checked, edited)
    assert f"[{finding}]" in checked.stderr and f"[{finding}]" in edited.stderr
    assert conf.read_bytes() == data


def test_check_goes_with_edit_only():
    proc = _run("--check")
    assert proc.returncode == 2 and "--check goes with --edit" in proc.stderr, proc
