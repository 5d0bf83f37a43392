"""Issue 28, defect 3: a certificate file that also holds the private key.

certbot's fullchain.pem, or a hand-made "combined" PEM, with the leaf AND
the key was installed as server.crt, mode 0644, and `runbook check` said
"OK: no findings": the key was world-readable. Now check names it, probe
--compare-files refuses it before any connection, and deploy-hook refuses
the lineage before writing anything (not even to its staging folder)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runbook.checks.preflight import check_files
from runbook.deploy_hook import HookRefused, deploy
from runbook.tls import certs
from tests.unit.test_deploy_hook import NAME, Site

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def issued() -> certs.Issued:
    return certs.CA.create().issue([NAME])


def combined(tmp: Path, issued: certs.Issued, name: str = "combined.pem") -> Path:
    """The leaf, then the key, in one file of mode 0644, as a careless copy makes it."""
    path = tmp / name
    path.write_bytes(issued.cert_pem() + issued.key_pem())
    path.chmod(0o644)
    return path


def runbook(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runbook", *args], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)


def test_check_names_a_key_inside_the_certificate_file(tmp_path, issued):
    cert = combined(tmp_path, issued)
    key = tmp_path / "server.key"
    key.write_bytes(issued.key_pem())
    key.chmod(0o600)
    found = {f.id: f for f in check_files(cert, key, uid=None)}
    assert found["cert-holds-private-key"].severity == "error"
    assert "usually everyone, can read the key" in found["cert-holds-private-key"].message
    ran = runbook("check", "--cert", str(cert), "--key", str(key), "--user", "none")
    assert ran.returncode == 1 and "ERROR [cert-holds-private-key]" in ran.stdout, ran.stdout
    assert "OK: no findings" not in ran.stdout


def test_one_file_given_as_both_certificate_and_key_is_a_key_file_not_a_leak(tmp_path, issued):
    both = combined(tmp_path, issued)
    both.chmod(0o600)
    assert "cert-holds-private-key" not in {f.id for f in check_files(both, both, uid=None)}


def test_a_plain_certificate_file_has_no_such_finding(tmp_path, issued):
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    issued.write(cert, key)
    assert "cert-holds-private-key" not in {f.id for f in check_files(cert, key, uid=None)}


def test_probe_compare_files_refuses_it_before_connecting(tmp_path, issued):
    # Port 9 of a loopback address nobody listens on: a refusal that came
    # after a connection attempt would say so instead.
    ran = runbook("probe", "https://127.0.0.1:9", "--compare-files",
                  str(combined(tmp_path, issued)))
    assert ran.returncode == 2, ran.stdout + ran.stderr
    assert "holds a private key (-----BEGIN PRIVATE KEY-----)" in ran.stderr
    assert "Traceback" not in ran.stderr


def test_deploy_hook_refuses_a_chain_with_a_key_and_writes_nothing(tmp_path):
    site = Site(tmp_path)
    try:
        renewed = site.issue()
        live = site.lineage(renewed)
        (live / "fullchain.pem").write_bytes(renewed.cert_pem(with_chain=True)
                                             + renewed.key_pem())
        before = site.pair_bytes()
        with pytest.raises(HookRefused) as refused:
            deploy(site.plan(live))
        assert refused.value.findings == ["cert-holds-private-key"]
        assert "untouched" in refused.value.message
        assert site.pair_bytes() == before
        assert not list(site.dest.glob(".new-*"))
        assert not (site.dest / "previous").exists()
    finally:
        site.stop()
    assert os.path.exists(tmp_path / "tls" / "server.crt")
