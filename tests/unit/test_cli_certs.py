"""`runbook certs`: results, second runs, and refusals, as an operator sees them."""

from __future__ import annotations

import stat
import subprocess
import sys


def runbook(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runbook", *args], cwd=cwd,
                          capture_output=True, text=True)


def test_ca_says_created_then_already_exists(tmp_path):
    first = runbook("certs", "ca", "--out", ".", cwd=tmp_path)
    second = runbook("certs", "ca", "--out", ".", cwd=tmp_path)
    assert first.returncode == second.returncode == 0
    assert first.stdout.startswith("Created a local CA:")
    assert second.stdout.startswith("CA already exists: ca.crt (kept; --force to replace)")
    assert stat.S_IMODE((tmp_path / "ca.key").stat().st_mode) == 0o600


def test_issue_refuses_to_replace_a_key_and_force_replaces_it(tmp_path):
    runbook("certs", "ca", "--out", ".", cwd=tmp_path)
    runbook("certs", "issue", "--ca-cert", "ca.crt", "--ca-key", "ca.key", cwd=tmp_path)
    before = (tmp_path / "server.key").read_bytes()
    refused = runbook("certs", "issue", "--ca-cert", "ca.crt", "--ca-key", "ca.key",
                      cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == ["ERROR: server.key already exists",
                                           "  fix: choose another path, or pass --force to "
                                           "replace it"]
    assert (tmp_path / "server.key").read_bytes() == before
    forced = runbook("certs", "issue", "--ca-cert", "ca.crt", "--ca-key", "ca.key", "--force",
                     cwd=tmp_path)
    assert forced.returncode == 0 and (tmp_path / "server.key").read_bytes() != before


def test_bad_options_are_refused_before_anything_is_written(tmp_path):
    for args in (["certs", "self-signed", "--san", "bad name!"],
                 ["certs", "self-signed", "--days", "0"],
                 ["certs", "self-signed", "--key-type", "dsa"]):
        proc = runbook(*args, cwd=tmp_path)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_missing_output_folder_is_named_with_the_fix(tmp_path):
    proc = runbook("certs", "self-signed", "--out", "nope", cwd=tmp_path)
    assert proc.returncode == 2
    assert "directory nope does not exist" in proc.stderr and "mkdir -p nope" in proc.stderr


def test_check_takes_a_user_name_and_names_an_unknown_one(tmp_path):
    runbook("certs", "self-signed", "--out", ".", cwd=tmp_path)
    by_name = runbook("check", "--cert", "server.crt", "--key", "server.key", "--user", "root",
                      cwd=tmp_path)
    assert by_name.returncode == 0, by_name.stdout
    unknown = runbook("check", "--cert", "server.crt", "--key", "server.key", "--user",
                      "no-such-user", cwd=tmp_path)
    assert unknown.returncode == 2 and "no user 'no-such-user' on this host" in unknown.stderr
