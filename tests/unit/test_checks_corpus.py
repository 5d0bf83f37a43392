"""A corpus of bad inputs, each made here: `runbook check` must name the
problem with the expected finding id and exit code, and never a traceback."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from runbook.facts import INFLUXDB_UID
from runbook.files import write_private
from runbook.tls import certs


def run_check(*args: str) -> tuple[int, dict | None, str]:
    proc = subprocess.run([sys.executable, "-m", "runbook", "check", *args, "--json"],
                          capture_output=True, text=True)
    assert "Traceback" not in proc.stderr, proc.stderr
    data = json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc.returncode, data, proc.stderr


def ids(data: dict | None) -> set[str]:
    return {f["id"] for f in (data or {}).get("findings", [])}


def _custom_cert(tmp: Path, *, sans=True, ku_digital=True, eku=ExtendedKeyUsageOID.SERVER_AUTH,
                 start_delta=-1, end_delta=30, ca=False) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    ku = x509.KeyUsage(digital_signature=ku_digital, content_commitment=False,
                       key_encipherment=True, data_encipherment=True, key_agreement=False,
                       key_cert_sign=ca, crl_sign=False, encipher_only=False,
                       decipher_only=False)
    cert = certs.make_certificate(
        key, "localhost", ca=ca, key_usage=ku, extended_key_usage=[eku], ski=False, aki=False,
        sans=("localhost",) if sans else None,
        validity=(now + dt.timedelta(days=start_delta), now + dt.timedelta(days=end_delta)))
    return certs.Issued(cert, key).write(tmp / "c.crt", tmp / "c.key")


def _good(tmp: Path, **kw) -> tuple[Path, Path]:
    return certs.self_signed(**kw).write(tmp / "c.crt", tmp / "c.key")


def case_mismatch(tmp):
    c, _ = _good(tmp)
    certs.self_signed().write(tmp / "o.crt", tmp / "o.key")
    return [str(c), str(tmp / "o.key")], {}


def case_mismatch_ecdsa(tmp):
    c, _ = _good(tmp, key_type="p256")
    certs.self_signed(key_type="p256").write(tmp / "o.crt", tmp / "o.key")
    return [str(c), str(tmp / "o.key")], {}


def case_encrypted(tmp):
    c, k = certs.self_signed().write(tmp / "c.crt", tmp / "c.key", passphrase=b"secret")
    return [str(c), str(k)], {}


def case_der_cert(tmp):
    from cryptography.hazmat.primitives.serialization import Encoding

    issued = certs.self_signed()
    c, k = issued.write(tmp / "c.crt", tmp / "c.key")
    c.write_bytes(issued.cert.public_bytes(Encoding.DER))
    return [str(c), str(k)], {}


def case_truncated_cert(tmp):
    c, k = _good(tmp)
    c.write_bytes(c.read_bytes()[:300])
    return [str(c), str(k)], {}


def case_garbage_cert(tmp):
    c, k = _good(tmp)
    c.write_text("hello, I am not a certificate\n")
    return [str(c), str(k)], {}


def case_empty_key(tmp):
    c, k = _good(tmp)
    k.write_bytes(b"")
    return [str(c), str(k)], {}


def case_expired(tmp):
    c, k = _custom_cert(tmp, start_delta=-20, end_delta=-1)
    return [str(c), str(k)], {}


def case_not_yet_valid(tmp):
    c, k = _custom_cert(tmp, start_delta=2, end_delta=30)
    return [str(c), str(k)], {}


def case_expiring(tmp):
    c, k = _good(tmp, days=5)
    return [str(c), str(k)], {}


def case_host_not_covered(tmp):
    c, k = _good(tmp, sans=["example.com", "10.1.2.3"])
    return [str(c), str(k), "--host", "localhost"], {}


def case_cn_only(tmp):
    c, k = _custom_cert(tmp, sans=False)
    return [str(c), str(k), "--host", "localhost"], {}


def case_no_digital_signature(tmp):
    c, k = _custom_cert(tmp, ku_digital=False)
    return [str(c), str(k)], {}


def case_client_auth_eku(tmp):
    c, k = _custom_cert(tmp, eku=ExtendedKeyUsageOID.CLIENT_AUTH)
    return [str(c), str(k)], {}


def case_ca_as_server_cert(tmp):
    ca = certs.CA.create()
    c, k = ca.write(tmp / "c.crt", tmp / "c.key")
    return [str(c), str(k)], {}


def _intermediate_chain(tmp):
    root = certs.CA.create("root")
    inter_issued = root.issue(["intermediate.example.test"])
    # Turn the issued leaf into an intermediate CA by re-signing with CA constraints.
    inter_key = certs.generate_key()
    now = dt.datetime.now(dt.UTC)
    inter_cert = certs.make_certificate(
        inter_key, "inter", issuer=root, ca=True, key_usage=None, aki=False,
        validity=(now - dt.timedelta(days=1), now + dt.timedelta(days=30)))
    del inter_issued
    inter = certs.CA(inter_cert, inter_key)
    leaf = inter.issue()
    root.write(tmp / "root.crt", tmp / "root.key")
    return root, inter, leaf


def case_chain_out_of_order(tmp):
    _, inter, leaf = _intermediate_chain(tmp)
    from runbook.tls.certs import cert_pem

    (tmp / "c.crt").write_bytes(cert_pem(inter.cert) + cert_pem(leaf.cert))
    write_private(tmp / "c.key", leaf.key_pem())
    return [str(tmp / "c.crt"), str(tmp / "c.key"), "--ca", str(tmp / "root.crt")], {}


def case_missing_intermediate(tmp):
    _, _, leaf = _intermediate_chain(tmp)
    from runbook.tls.certs import cert_pem

    (tmp / "c.crt").write_bytes(cert_pem(leaf.cert))
    write_private(tmp / "c.key", leaf.key_pem())
    return [str(tmp / "c.crt"), str(tmp / "c.key"), "--ca", str(tmp / "root.crt")], {}


def case_wrong_ca(tmp):
    c, k = certs.CA.create().issue().write(tmp / "c.crt", tmp / "c.key")
    certs.CA.create().write(tmp / "other.crt", tmp / "other.key")
    return [str(c), str(k), "--ca", str(tmp / "other.crt")], {}


def case_world_readable_key(tmp):
    c, k = _good(tmp)
    os.chmod(k, 0o644)
    return [str(c), str(k)], {}


def case_root_only_key(tmp):
    c, k = _good(tmp)
    os.chown(k, 0, 0)
    os.chmod(k, 0o600)
    return [str(c), str(k), "--user", str(INFLUXDB_UID)], {}


CORPUS = {
    "mismatch": (case_mismatch, "key-mismatch", 1),
    "mismatch-ecdsa": (case_mismatch_ecdsa, "key-mismatch", 1),
    "encrypted-key": (case_encrypted, "key-encrypted", 1),
    "der-cert": (case_der_cert, "cert-not-pem", 1),
    "truncated-cert": (case_truncated_cert, "cert-not-pem", 1),
    "garbage-cert": (case_garbage_cert, "cert-not-pem", 1),
    "empty-key": (case_empty_key, "key-not-pem", 1),
    "expired": (case_expired, "cert-expired", 1),
    "not-yet-valid": (case_not_yet_valid, "cert-not-yet-valid", 1),
    "expiring": (case_expiring, "cert-expiring", 0),
    "host-not-covered": (case_host_not_covered, "host-not-covered", 1),
    "cn-only": (case_cn_only, "cert-cn-only", 1),
    "no-digital-signature": (case_no_digital_signature, "key-usage-no-digital-signature", 0),
    "client-auth-eku": (case_client_auth_eku, "eku-not-server-auth", 1),
    "ca-as-server": (case_ca_as_server_cert, "cert-is-ca", 1),
    "chain-out-of-order": (case_chain_out_of_order, "chain-out-of-order", 1),
    "missing-intermediate": (case_missing_intermediate, "chain-missing-intermediate", 1),
    "wrong-ca": (case_wrong_ca, "ca-not-issuer", 1),
    "world-readable-key": (case_world_readable_key, "key-too-open", 0),
    "root-only-key": (case_root_only_key, "unreadable-by-influxd", 1),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_bad_input_gets_its_finding_and_exit_code(tmp_path, name):
    make, expected_id, expected_rc = CORPUS[name]
    args, _ = make(tmp_path)
    cert, key, *rest = args
    if "--user" not in rest:
        rest += ["--user", "none"]
    rc, data, _ = run_check("--cert", cert, "--key", key, *rest)
    assert expected_id in ids(data), data
    assert rc == expected_rc


def test_a_good_pair_has_no_findings(tmp_path):
    c, k = _good(tmp_path)
    rc, data, _ = run_check("--cert", str(c), "--key", str(k), "--host", "localhost",
                            "--user", "none")
    assert (rc, ids(data)) == (0, {"cert-self-signed"})


@pytest.mark.parametrize("args", [
    ["--cert", "/nonexistent.crt", "--key", "/nonexistent.key"],
    ["--cert", "/", "--key", "/"],
    ["--cert", "x.crt"],
])
def test_unreadable_input_or_bad_usage_exits_2_with_one_line(tmp_path, args):
    proc = subprocess.run([sys.executable, "-m", "runbook", "check", *args],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip()
