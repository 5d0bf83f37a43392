"""Verdicts that match the clients (issue 28, defect 8), against real `openssl s_server`s:
a TLS 1.1-only server is assessed, not refused as "not TLS"; a certificate that
names its host only in the CN fails verification in probe, grade and wait, as
it does in Go clients (Telegraf, the influx CLI)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runbook.poll import poll_until
from runbook.tls import certs
from runbook.tls.probe import CN_ONLY, served_leaf_unverified
from tests.unit import hostile
from tests.unit.test_deploy_hook import ROOT, _free_port


@contextlib.contextmanager
def s_server(cert: Path, key: Path, *args: str) -> Iterator[int]:
    port = _free_port()
    proc = subprocess.Popen(["openssl", "s_server", "-quiet", "-www", "-accept",
                             f"127.0.0.1:{port}", "-cert", str(cert), "-key", str(key), *args],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        poll_until(lambda: served_leaf_unverified(f"https://127.0.0.1:{port}", timeout=1),
                   what=f"openssl s_server {' '.join(args)} on {port}", timeout=15)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def runbook(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runbook", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("pki")
    ca = certs.CA.create()
    (d / "ca.crt").write_bytes(ca.cert_pem())
    ca.issue(["localhost"]).write(d / "server.crt", d / "server.key")
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cn_only = hostile.make_cert(key, issuer=ca, cn="localhost", sans=False)
    hostile.write_pair(d, "cn-only", cn_only, key)
    return {"ca": d / "ca.crt", "cert": d / "server.crt", "key": d / "server.key",
            "cn_cert": d / "cn-only.crt", "cn_key": d / "cn-only.key"}


TLS11_ONLY = ("-tls1_1", "-cipher", "ALL:@SECLEVEL=0")  # OpenSSL 3 allows 1.1 at level 0


@pytest.mark.parametrize("flag, version", [("-tls1_1", "TLSv1.1"), ("-tls1", "TLSv1.0")])
def test_probe_assesses_a_server_of_tls_1_0_or_1_1_only(pki, flag, version):
    with s_server(pki["cert"], pki["key"], flag, *TLS11_ONLY[1:]) as port:
        proc = runbook("probe", f"https://localhost:{port}", "--ca", str(pki["ca"]), "--json")
    assert proc.returncode in (0, 1), proc.stderr
    result = json.loads(proc.stdout)
    assert result["negotiated_version"] == version.replace("TLSv1.0", "TLSv1")
    assert result["versions"][version] == "accepted"
    assert result["versions"]["TLSv1.2"].startswith("refused")


@pytest.mark.parametrize("profile, deviation", [("intermediate", "tls-versions"),
                                                ("old", None)])
def test_grade_assesses_a_tls_1_1_only_server(pki, profile, deviation):
    with s_server(pki["cert"], pki["key"], *TLS11_ONLY) as port:
        proc = runbook("grade", f"https://localhost:{port}", "--ca", str(pki["ca"]),
                       "--profile", profile, "--json")
    assert proc.returncode == 1, proc.stderr  # deviations, not "is this port serving TLS?"
    result = json.loads(proc.stdout)
    assert result["scan"]["versions"] == ["TLSv1.1"]
    ids = {d["id"] for d in result["deviations"]}
    if deviation:
        assert deviation in ids
        assert any("TLSv1.1 accepted" in d["message"] for d in result["deviations"])


def test_probe_fails_a_cn_only_certificate_and_names_why(pki):
    with s_server(pki["cn_cert"], pki["cn_key"]) as port:
        proc = runbook("probe", f"https://localhost:{port}", "--ca", str(pki["ca"]))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "verified: NO" in proc.stdout and CN_ONLY in proc.stdout


def test_grade_fails_a_cn_only_certificate(pki):
    with s_server(pki["cn_cert"], pki["cn_key"]) as port:
        proc = runbook("grade", f"https://localhost:{port}", "--ca", str(pki["ca"]), "--json")
    assert proc.returncode == 1, proc.stderr
    deviations = {d["id"]: d for d in json.loads(proc.stdout)["deviations"]}
    assert CN_ONLY in deviations["certificate-cn-only"]["message"]


def test_wait_stops_at_once_on_a_cn_only_certificate(pki):
    with s_server(pki["cn_cert"], pki["cn_key"]) as port:
        proc = runbook("wait", f"https://localhost:{port}/health", "--ca", str(pki["ca"]),
                       "--timeout", "30")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    first = proc.stderr.splitlines()[0]
    assert "certificate does not verify" in first and CN_ONLY in first


def test_a_certificate_with_sans_still_verifies(pki):
    with s_server(pki["cert"], pki["key"]) as port:
        proc = runbook("probe", f"https://localhost:{port}", "--ca", str(pki["ca"]))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "verified: yes" in proc.stdout
