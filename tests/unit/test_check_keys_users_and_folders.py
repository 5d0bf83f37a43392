"""`runbook check` names keys influxd cannot use and what it can; names the user it
checked for; names the folder that stops influxd reading a key. `certs issue`
refuses a CA that must not sign, saying why."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import dsa

from runbook.checks.preflight import check_files
from runbook.errors import UnusableCA
from runbook.facts import INFLUXDB_GID, INFLUXDB_UID, INFLUXDB_USER
from runbook.tls import certs
from tests.unit.hostile import make_cert, write_pair


@pytest.fixture
def open_tmp():
    """A folder every user may enter (pytest's own tmp_path sits under a 0700 folder)."""
    root = Path(tempfile.mkdtemp(prefix="runbook-check-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def runbook(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runbook", *args], capture_output=True,
                          text=True, cwd=cwd)


def test_a_dsa_pair_is_flagged_with_the_key_types_influxd_takes(tmp_path):
    key = dsa.generate_private_key(2048)
    c, k = write_pair(tmp_path, "dsa", make_cert(key), key)
    found = {f.id: f for f in check_files(c, k, uid=None)}
    message = found["key-type-unsupported"].message
    assert "DSA-2048" in message and "RSA (2048 bits or more), ECDSA P-256/P-384/P-521 or " \
        "Ed25519" in message


@pytest.mark.parametrize("key_type", ["rsa2048", "p256", "p384"])
def test_key_types_influxd_takes_are_not_flagged(tmp_path, key_type):
    c, k = certs.self_signed(key_type=key_type).write(tmp_path / "s.crt", tmp_path / "s.key")
    ids = {f.id for f in check_files(c, k, uid=None)}
    assert not ids & {"key-type-unsupported", "key-too-small", "cert-weak-signature"}


def test_a_key_in_a_folder_influxd_cannot_enter_names_that_folder(open_tmp):
    """A `mktemp -d` folder is 0700: chown on the key would not help, and the fix says so."""
    folder = open_tmp / "state"
    folder.mkdir(mode=0o700)
    c, k = certs.self_signed().write(folder / "s.crt", folder / "s.key")
    os.chown(k, INFLUXDB_UID, INFLUXDB_GID)
    unreadable = [f for f in check_files(c, k, uid=INFLUXDB_UID)
                  if f.id == "unreadable-by-influxd"]
    assert len(unreadable) == 2  # both files sit behind the folder
    assert f"folder {folder} (mode 0700" in unreadable[1].message
    assert unreadable[1].fix.startswith(f"let influxd enter the folder: chmod o+x {folder}")
    assert "chown" not in unreadable[1].fix


def test_a_root_only_key_in_an_open_folder_still_says_chown(open_tmp):
    c, k = certs.self_signed().write(open_tmp / "s.crt", open_tmp / "s.key")
    [finding] = [f for f in check_files(c, k, uid=INFLUXDB_UID)
                 if f.id == "unreadable-by-influxd"]
    assert "file mode 0600, owner uid 0" in finding.message
    assert finding.fix == f"chown {INFLUXDB_UID}:{INFLUXDB_UID} {k} && chmod 600 {k}"


def test_check_names_the_user_it_checked_for(tmp_path):
    c, k = certs.self_signed().write(tmp_path / "s.crt", tmp_path / "s.key")
    proc = runbook("check", "--cert", str(c), "--key", str(k))
    try:
        uid = pwd.getpwnam(INFLUXDB_USER).pw_uid
        expected = f"uid {uid}, user {INFLUXDB_USER} on this host"
    except KeyError:
        expected = f"uid {INFLUXDB_UID}, user {INFLUXDB_USER} of the official image"
    assert expected in proc.stderr, proc.stderr
    data = json.loads(runbook("check", "--cert", str(c), "--key", str(k), "--json").stdout)
    assert expected in data["user"]["chosen"]


# The package host's own system user is proven in a real package host:
# test_runbook_check_defaults_to_the_packages_influxdb_system_user in
# tests/integration/test_package_host.py.


@pytest.mark.parametrize("defect,why", [
    ("leaf", "is not a CA certificate"),
    ("expired", "the CA expired on"),
    ("mismatch", "does not belong to"),
])
def test_issue_refuses_a_ca_that_must_not_sign_and_says_why(tmp_path, defect, why):
    ca = certs.CA.create()
    if defect == "leaf":
        ca.issue().write(tmp_path / "ca.crt", tmp_path / "ca.key")
    elif defect == "expired":
        key = certs.generate_key()
        write_pair(tmp_path, "ca", make_cert(key, ca=True, days=(-30, -1)), key)
    else:
        ca.write(tmp_path / "ca.crt", tmp_path / "other.key")
        certs.CA.create().write(tmp_path / "x.crt", tmp_path / "ca.key")
    with pytest.raises(UnusableCA, match=why):
        certs.CA.load(tmp_path / "ca.crt", tmp_path / "ca.key")
    proc = runbook("certs", "issue", "--ca-cert", "ca.crt", "--ca-key", "ca.key", "--out", "out",
                   cwd=tmp_path)
    assert proc.returncode == 2 and why in proc.stderr.splitlines()[0]
    assert not (tmp_path / "out").exists()


def test_a_ca_without_subject_key_identifier_still_issues(tmp_path):
    key = certs.generate_key()
    ca = certs.CA(make_cert(key, cn="CA without SKI", ca=True, ski=False), key)
    ca.write(tmp_path / "ca.crt", tmp_path / "ca.key")
    c, k = ca.issue().write(tmp_path / "s.crt", tmp_path / "s.key")
    assert check_files(c, k, ca_path=tmp_path / "ca.crt", uid=None) == []
    verify = subprocess.run(["openssl", "verify", "-CAfile", tmp_path / "ca.crt", c],
                            capture_output=True)
    assert verify.returncode == 0
