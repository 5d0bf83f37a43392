"""A certificate and its key land together or not at all, even with writers racing."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from runbook import files
from runbook.checks.preflight import key_matches_cert
from runbook.tls import certs
from runbook.tls.pem import load_certificates, load_private_key

ROUNDS = 30


def _force_run(folder: Path) -> int:
    return subprocess.run([sys.executable, "-m", "runbook", "certs", "self-signed", "--force",
                           "--key-type", "p256", "--out", str(folder)],
                          capture_output=True).returncode


def _pair_matches(folder: Path) -> bool:
    return key_matches_cert(load_private_key(folder / "server.key"),
                            load_certificates(folder / "server.crt")[0])


def _round(folder: Path) -> tuple[list[int], bool]:
    """Two `--force` runs at once into one folder; then, does the pair match?"""
    folder.mkdir()
    with ThreadPoolExecutor(2) as pool:
        codes = list(pool.map(_force_run, [folder, folder]))
    return codes, _pair_matches(folder)


def test_thirty_rounds_of_concurrent_force_runs_leave_no_mismatched_pair(tmp_path):
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(_round, [tmp_path / f"r{n}" for n in range(ROUNDS)]))
    assert [code for codes, _ in results for code in codes] == [0] * 2 * ROUNDS
    mismatched = sum(1 for _, ok in results if not ok)
    assert mismatched == 0
    leftovers = [p.name for n in range(ROUNDS) for p in (tmp_path / f"r{n}").iterdir()
                 if p.name not in ("server.crt", "server.key")]
    assert leftovers == []  # no staging folder left behind


def test_an_interrupted_replacement_puts_the_old_pair_back(tmp_path, monkeypatch):
    """Ctrl-C between the two renames: the first rename is rolled back."""
    old = certs.self_signed()
    old.write(tmp_path / "s.crt", tmp_path / "s.key")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    real_replace = os.replace
    calls = []

    def interrupted(src, dst):
        calls.append(dst)
        if len(calls) == 2:  # the certificate, after the key went in
            raise KeyboardInterrupt
        return real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        certs.self_signed().write(tmp_path / "s.crt", tmp_path / "s.key", overwrite=True)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert _pair_matches_named(tmp_path, "s")


def _pair_matches_named(folder: Path, stem: str) -> bool:
    return key_matches_cert(load_private_key(folder / f"{stem}.key"),
                            load_certificates(folder / f"{stem}.crt")[0])


def test_a_refused_pair_writes_neither_file(tmp_path):
    (tmp_path / "s.crt").write_text("someone else's certificate")
    with pytest.raises(files.RefusingToOverwrite):
        certs.self_signed().write(tmp_path / "s.crt", tmp_path / "s.key")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.crt"]


def test_server_folder_key_belongs_to_influxd_before_it_appears(tmp_path):
    from runbook.facts import INFLUXDB_GID, INFLUXDB_UID

    d = certs.write_server_dir(tmp_path / "tls", certs.self_signed())
    st = (d / "server.key").stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (INFLUXDB_UID, INFLUXDB_GID, 0o600)


def test_unwritable_places_are_named_errors_not_crashes():
    issued = certs.self_signed()
    for folder in ("/proc", "/sys/kernel", tempfile.gettempdir() + "/no/such/folder"):
        with pytest.raises(files.InputError):
            issued.write(Path(folder) / "s.crt", Path(folder) / "s.key")
