"""Mozilla's server-side TLS profiles (guidelines version 5.7), the parts a grade checks.

Copied from https://ssl-config.mozilla.org/guidelines/5.7.json: versions, TLS 1.2
cipher suites (OpenSSL names), TLS 1.3 suites, key-exchange curves (OpenSSL group
names), certificate key types, curves, signatures, RSA size and lifespan. HSTS and
OCSP stapling are left out: they are not TLS settings of influxd.
"""

from __future__ import annotations

from dataclasses import dataclass

GUIDELINES_VERSION = "5.7"
GUIDELINES_URL = "https://ssl-config.mozilla.org/guidelines/5.7.json"

_TLS13_SUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                 "TLS_CHACHA20_POLY1305_SHA256")
_CURVES = ("X25519", "prime256v1", "secp384r1")
_CERT_CURVES = ("prime256v1", "secp384r1")
_INTERMEDIATE_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305",
)
_OLD_CIPHERS = _INTERMEDIATE_CIPHERS + (
    "ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256", "ECDHE-ECDSA-AES128-SHA",
    "ECDHE-RSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384",
    "ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA", "DHE-RSA-AES128-SHA256",
    "DHE-RSA-AES256-SHA256", "AES128-GCM-SHA256", "AES256-GCM-SHA384", "AES128-SHA256",
    "AES256-SHA256", "AES128-SHA", "AES256-SHA", "DES-CBC3-SHA",
)


@dataclass(frozen=True)
class Profile:
    name: str
    tls_versions: tuple[str, ...]  # the names runbook.tls.probe.VERSIONS uses
    ciphers: tuple[str, ...]  # TLS 1.2 and below, OpenSSL names
    tls13_suites: tuple[str, ...]
    curves: tuple[str, ...]
    certificate_types: tuple[str, ...]  # "ecdsa", "rsa"
    certificate_curves: tuple[str, ...]
    certificate_signatures: tuple[str, ...]
    rsa_key_size: int | None
    max_lifespan_days: int


PROFILES: dict[str, Profile] = {
    "modern": Profile(
        "modern", ("TLSv1.3",), (), _TLS13_SUITES, _CURVES, ("ecdsa",), _CERT_CURVES,
        ("ecdsa-with-SHA256", "ecdsa-with-SHA384", "ecdsa-with-SHA512"), None, 90),
    "intermediate": Profile(
        "intermediate", ("TLSv1.2", "TLSv1.3"), _INTERMEDIATE_CIPHERS, _TLS13_SUITES, _CURVES,
        ("ecdsa", "rsa"), _CERT_CURVES,
        ("sha256WithRSAEncryption", "ecdsa-with-SHA256", "ecdsa-with-SHA384",
         "ecdsa-with-SHA512"), 2048, 366),
    "old": Profile(
        "old", ("TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"), _OLD_CIPHERS, _TLS13_SUITES,
        _CURVES, ("rsa",), _CERT_CURVES, ("sha256WithRSAEncryption",), 2048, 366),
}
