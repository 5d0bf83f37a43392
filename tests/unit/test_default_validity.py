"""Certificates the CLI and the demo issue by default pass the profile the site
recommends (Mozilla intermediate: a leaf lives at most 366 days)."""

from __future__ import annotations

import pytest

from runbook.tls import certs
from runbook.tls.cert_choices import DEFAULT_LEAF_DAYS
from runbook.tls.grade import grade
from runbook.tls.profiles import PROFILES
from runbook.tls.scan import Scan, _certificate_facts

CERT_RULES = {"certificate-type", "certificate-curve", "rsa-key-size", "certificate-signature",
              "certificate-lifespan"}


def _certificate_deviations(issued: certs.Issued, profile: str) -> list[str]:
    from cryptography.hazmat.primitives.serialization import Encoding

    facts = _certificate_facts(issued.cert.public_bytes(Encoding.DER))
    result = grade(Scan(url="https://localhost:8086", certificate=facts), profile)
    return [d.id for d in result.deviations if d.id in CERT_RULES]


def test_default_fits_intermediate_and_old():
    longest = min(PROFILES[p].max_lifespan_days for p in ("intermediate", "old"))
    assert longest == 366
    assert DEFAULT_LEAF_DAYS in range(1, longest + 1)


@pytest.mark.parametrize("make", [
    pytest.param(lambda ca: certs.self_signed(), id="self-signed"),
    pytest.param(lambda ca: ca.issue(["localhost", "127.0.0.1"]), id="issue (the demo's)"),
    pytest.param(lambda ca: certs.wildcard(ca, "example.test"), id="wildcard"),
])
def test_default_certificates_pass_intermediate(make):
    issued = make(certs.CA.create("test CA"))
    span = certs.not_after(issued.cert) - certs.not_before(issued.cert)
    assert span.days == DEFAULT_LEAF_DAYS  # plus the 5-minute backdating
    assert _certificate_deviations(issued, "intermediate") == []


def test_default_certificate_still_fails_modern_lifespan():
    # modern wants 90 days and ECDSA: the default does not pretend to fit it.
    assert "certificate-lifespan" in _certificate_deviations(certs.self_signed(), "modern")
