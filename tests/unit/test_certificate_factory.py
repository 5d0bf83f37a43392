"""The one certificate factory: right by default, and each defect the trust
matrix and the checks' corpus need is one option, seen by `runbook check`."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509

from runbook.checks.preflight import check_files
from runbook.tls import certs

NOW = dt.datetime.now(dt.UTC)


def _ids(tmp_path, cert: x509.Certificate, key) -> set[str]:
    c, k = certs.Issued(cert, key).write(tmp_path / "c.crt", tmp_path / "c.key", overwrite=True)
    return {f.id for f in check_files(c, k, host="localhost", uid=None)}


def _ext(cert: x509.Certificate, kind: type) -> object | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def test_the_default_leaf_has_what_every_client_wants():
    ca = certs.CA.create()
    key = certs.generate_key()
    cert = certs.make_certificate(key, "localhost", sans=("localhost", "127.0.0.1"), issuer=ca)
    ku = _ext(cert, x509.KeyUsage)
    assert ku is not None and ku.digital_signature and ku.key_encipherment
    assert _ext(cert, x509.ExtendedKeyUsage) == x509.ExtendedKeyUsage(
        [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH])
    assert _ext(cert, x509.BasicConstraints) == x509.BasicConstraints(ca=False, path_length=None)
    assert _ext(cert, x509.AuthorityKeyIdentifier) is not None
    assert cert.issuer == ca.cert.subject


@pytest.mark.parametrize("options, finding", [
    ({"sans": None}, "cert-cn-only"),
    ({"key_usage": certs.GUIDE_KEY_USAGE}, "key-usage-no-digital-signature"),
    ({"ca": True}, "cert-is-ca"),
    ({"validity": (NOW - dt.timedelta(days=30), NOW - dt.timedelta(days=1))}, "cert-expired"),
])
def test_each_defect_is_one_option_and_the_check_sees_it(tmp_path, options, finding):
    key = certs.generate_key()
    good = certs.make_certificate(key, "localhost", sans=("localhost",))
    assert finding not in _ids(tmp_path, good, key)
    bad = certs.make_certificate(key, "localhost", **{"sans": ("localhost",), **options})
    assert finding in _ids(tmp_path, bad, key)
