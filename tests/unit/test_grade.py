"""runbook.tls.grade: which deviations a scan has from each Mozilla profile, and their fixes."""

from __future__ import annotations

import pytest

from runbook.tls.grade import NOT_CONFIGURABLE, grade
from runbook.tls.scan import CertificateFacts, Scan

STRICT = ["ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305",
          "ECDHE-RSA-AES128-GCM-SHA256"]
GO_DEFAULT = [*STRICT, "ECDHE-RSA-AES256-SHA", "ECDHE-RSA-AES128-SHA"]
INFLUXD_CURVES = ["prime256v1", "secp384r1", "secp521r1"]
TLS13 = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]


def rsa_cert(bits: int = 2048, days: int = 90,
             signature: str = "sha256WithRSAEncryption") -> CertificateFacts:
    return CertificateFacts("rsa", bits, None, signature, days, "CN=localhost")


def p256_cert(days: int = 90) -> CertificateFacts:
    return CertificateFacts("ecdsa", 256, "prime256v1", "ecdsa-with-SHA256", days, "CN=localhost")


def scan(**kw: object) -> Scan:
    base: dict[str, object] = {"url": "https://localhost:8086",
                               "versions": ["TLSv1.2", "TLSv1.3"], "ciphers": GO_DEFAULT,
                               "tls13_suites": TLS13,
                               "curves": INFLUXD_CURVES, "certificate": rsa_cert()}
    base.update(kw)
    return Scan(**base)  # type: ignore[arg-type]


def ids(s: Scan, profile: str) -> dict[str, str]:
    return {d.id: d.setting for d in grade(s, profile).deviations}


def test_influxd_defaults_deviate_from_intermediate_by_cbc_suites_and_p521():
    assert ids(scan(), "intermediate") == {"ciphers": "tls-strict-ciphers = true",
                                           "tls-curves": NOT_CONFIGURABLE}


def test_strict_ciphers_leave_only_the_fixed_curve_list():
    assert ids(scan(ciphers=STRICT), "intermediate") == {"tls-curves": NOT_CONFIGURABLE}


def test_modern_wants_tls13_only_and_an_ecdsa_certificate():
    found = ids(scan(), "modern")
    assert found["tls-versions"] == found["ciphers"] == 'tls-min-version = "1.3"'
    assert {"certificate-type", "certificate-signature", "tls-curves"} <= found.keys()


def test_tls13_with_a_p256_certificate_is_modern_but_for_the_curves():
    s = scan(versions=["TLSv1.3"], ciphers=[], certificate=p256_cert())
    assert ids(s, "modern") == {"tls-curves": NOT_CONFIGURABLE}


def test_a_server_without_p521_would_be_compliant():
    s = scan(versions=["TLSv1.3"], ciphers=[], certificate=p256_cert(),
             curves=["X25519", "prime256v1", "secp384r1"])
    result = grade(s, "modern")
    assert result.compliant and result.notes == []


def test_a_ccm_suite_in_tls13_is_a_deviation_no_setting_fixes():
    s = scan(ciphers=STRICT, tls13_suites=[*TLS13, "TLS_AES_128_CCM_SHA256"])
    assert ids(s, "intermediate") == {"tls-curves": NOT_CONFIGURABLE,
                                      "tls13-suites": NOT_CONFIGURABLE}


def test_missing_x25519_is_a_note_not_a_deviation():
    notes = grade(scan(ciphers=STRICT), "intermediate").notes
    assert any(n.startswith("X25519, the profile's first curve, is not offered") for n in notes)


@pytest.mark.parametrize("cert,expected", [
    (rsa_cert(bits=1024), "rsa-key-size"),
    (rsa_cert(signature="sha1WithRSAEncryption"), "certificate-signature"),
    (rsa_cert(days=397), "certificate-lifespan"),
    (CertificateFacts("ecdsa", 521, "secp521r1", "ecdsa-with-SHA512", 90, "CN=x"),
     "certificate-curve"),
])
def test_certificate_deviations_ask_for_a_new_pair(cert, expected):
    found = ids(scan(ciphers=STRICT, certificate=cert), "intermediate")
    assert found.pop(expected) == "tls-cert, tls-key (a new certificate)"
    assert found == {"tls-curves": NOT_CONFIGURABLE}


def test_tls10_is_a_deviation_for_intermediate_but_not_for_old():
    s = scan(versions=["TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"], ciphers=STRICT)
    assert ids(s, "intermediate")["tls-versions"] == 'tls-min-version = "1.2"'
    assert "tls-versions" not in ids(s, "old")


def test_old_wants_rsa():
    s = scan(ciphers=STRICT, certificate=p256_cert())
    assert ids(s, "old")["certificate-type"] == "tls-cert, tls-key (a new certificate)"


def test_an_unverified_certificate_is_a_deviation():
    s = scan(ciphers=STRICT, verify_error="unable to get local issuer certificate")
    assert "certificate-trust" in ids(s, "intermediate")


def test_json_shape():
    d = grade(scan(), "intermediate").as_dict()
    assert d["compliant"] is False and d["guidelines_version"] == "5.7"
    assert {x["id"] for x in d["deviations"]} == {"ciphers", "tls-curves"}  # type: ignore[union-attr]
