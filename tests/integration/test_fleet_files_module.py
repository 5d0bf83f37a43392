"""The role's own module (ansible/roles/influxdb_tls/library/influxdb_tls_files.py),
run as Ansible runs it (a JSON arguments file), on this machine's files: no
Docker, no fleet."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
from pathlib import Path

from tests.fleet import NO_ANSIBLE

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "ansible/roles/influxdb_tls/library/influxdb_tls_files.py"
KEY = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n-----END PRIVATE KEY-----\n"


def run(tmp_path: Path, **args) -> dict:
    spec = tmp_path / "args.json"
    spec.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    proc = subprocess.run([sys.executable, str(MODULE), str(spec)], capture_output=True,
                          text=True)
    assert "No module named 'ansible'" not in proc.stderr, \
        NO_ANSIBLE.format(bin=Path(sys.executable).parent)
    return json.loads(proc.stdout)


def mode_owner(path: Path) -> tuple[str, str]:
    st = path.stat()
    return f"{st.st_mode & 0o777:04o}", pwd.getpwuid(st.st_uid).pw_name


def test_install_writes_a_key_0600_for_its_owner_once(tmp_path):
    key = tmp_path / "server.key"
    args = {"state": "install",
            "files": [{"path": str(key), "content": KEY, "mode": "0600", "owner": "nobody"}]}
    first, second = run(tmp_path, **args), run(tmp_path, **args)
    assert first["changed"] and first["written"] == [str(key)]
    assert not second["changed"]
    assert mode_owner(key) == ("0600", "nobody")
    assert key.read_text() == KEY
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tls-")] == []


def test_install_to_a_user_that_does_not_exist_fails_with_its_name(tmp_path):
    out = run(tmp_path, state="install",
              files=[{"path": str(tmp_path / "k"), "content": KEY, "mode": "0600",
                      "owner": "influxdb-typo"}])
    assert out["failed"]
    assert "no user 'influxdb-typo' on this host" in out["msg"]
    assert not (tmp_path / "k").exists()


def test_snapshot_and_restore_put_files_back_and_remove_added_ones(tmp_path):
    config, added = tmp_path / "config.toml", tmp_path / "server.crt"
    config.write_text('bolt-path = "/var/lib/influxdb/influxd.bolt"\n')
    config.chmod(0o640)
    snap = run(tmp_path, state="snapshot", paths=[str(config), str(added)])
    assert not snap["changed"]
    config.write_text('tls-cert = "/x"\n')
    config.chmod(0o600)
    added.write_text("new\n")
    restored = run(tmp_path, state="restore", files=snap["files"])
    assert restored["changed"] and sorted(restored["written"]) == sorted([str(config), str(added)])
    assert config.read_text() == 'bolt-path = "/var/lib/influxdb/influxd.bolt"\n'
    assert mode_owner(config)[0] == "0640"
    assert not added.exists()
    assert not run(tmp_path, state="restore", files=snap["files"])["changed"]


def test_settings_edit_keys_in_place_and_append_the_missing_ones_once(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('bolt-path = "/b"\n  tls-cert = "/old.crt"\nengine-path = "/e"\n')
    os.chmod(config, 0o644)
    args = {"state": "settings", "path": str(config),
            "settings": {"tls-cert": "/etc/influxdb/tls/server.crt", "tls-min-version": "1.2"}}
    assert run(tmp_path, **args)["changed"]
    assert config.read_text().splitlines() == [
        'bolt-path = "/b"', 'tls-cert = "/etc/influxdb/tls/server.crt"', 'engine-path = "/e"',
        'tls-min-version = "1.2"']
    assert mode_owner(config)[0] == "0644"
    assert not run(tmp_path, **args)["changed"]


def test_settings_on_a_missing_file_fail_with_its_path(tmp_path):
    out = run(tmp_path, state="settings", path=str(tmp_path / "nope.toml"),
              settings={"tls-cert": "/x"})
    assert out["failed"] and f"{tmp_path / 'nope.toml'} does not exist" in out["msg"]
