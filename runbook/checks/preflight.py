"""Pre-flight findings for a certificate, its key, their files and influxd's user.

Each finding has a stable id (tests, docs and `runbook doctor` refer to it),
a severity, a message that names the file, and the fix.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa

from runbook.checks.acme import certbot_layout_findings
from runbook.checks.findings import ERROR, INFO, WARNING, Finding
from runbook.facts import INFLUXDB_UID, influxd_version
from runbook.files import read_input, read_obstacle, readable_fix
from runbook.tls.certs import cert_sans, not_after, not_before
from runbook.tls.names import host_matches
from runbook.tls.pem import (
    EncryptedKey,
    NotPem,
    UnsupportedKey,
    key_in_certificate,
    load_certificates,
    load_private_key,
    private_key_labels,
)

if TYPE_CHECKING:  # these names exist from cryptography 40 on; Debian bookworm has 38
    from cryptography.hazmat.primitives.asymmetric.types import (
        CertificatePublicKeyTypes,
        PrivateKeyTypes,
        PublicKeyTypes,
    )

DEFAULT_WARN_DAYS = 30
MIN_RSA_BITS = 2048
INFLUXD_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
INFLUXD_KEY_TYPES = "RSA (2048 bits or more), ECDSA P-256/P-384/P-521 or Ed25519"
WEAK_HASHES = ("sha1", "md5")

Findings = Iterator[Finding]


def public_key_bytes(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_matches_cert(key: PrivateKeyTypes, cert: x509.Certificate) -> bool:
    """True when the private key belongs to the certificate, for any key type."""
    try:
        return public_key_bytes(key.public_key()) == public_key_bytes(cert.public_key())
    except (ValueError, UnsupportedAlgorithm):
        return False


def signed_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether `issuer`'s key made `child`'s signature."""
    if child.issuer != issuer.subject:
        return False
    try:
        pub = issuer.public_key()
        algorithm = child.signature_hash_algorithm
        if isinstance(pub, rsa.RSAPublicKey):
            pub.verify(child.signature, child.tbs_certificate_bytes, padding.PKCS1v15(),
                       algorithm or hashes.SHA256())
        elif isinstance(pub, ec.EllipticCurvePublicKey):
            pub.verify(child.signature, child.tbs_certificate_bytes,
                       ec.ECDSA(algorithm or hashes.SHA256()))
        elif isinstance(pub, ed25519.Ed25519PublicKey):
            pub.verify(child.signature, child.tbs_certificate_bytes)
        elif isinstance(pub, dsa.DSAPublicKey):
            pub.verify(child.signature, child.tbs_certificate_bytes,
                       algorithm or hashes.SHA256())
        else:
            return False
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def key_kind(key: CertificatePublicKeyTypes) -> tuple[str, bool]:
    """(a name for the key's type, whether influxd can serve TLS with it)."""
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA-{key.key_size}", True
    if isinstance(key, ec.EllipticCurvePublicKey):
        curve = key.curve.name
        return f"ECDSA {INFLUXD_CURVES.get(curve, curve)}", curve in INFLUXD_CURVES
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", True
    if isinstance(key, dsa.DSAPublicKey):
        return f"DSA-{key.key_size}", False
    return type(key).__name__.lstrip("_").replace("PublicKey", ""), False


def _check_validity(cert: x509.Certificate, name: str, now: dt.datetime,
                    warn_days: int) -> Findings:
    end, start = not_after(cert), not_before(cert)
    if end <= now:
        yield Finding("cert-expired", ERROR, f"{name} expired on {end:%Y-%m-%d %H:%M} UTC",
                      "issue a new certificate and restart influxd (it reads certificates "
                      "only at start)")
    elif start > now:
        yield Finding("cert-not-yet-valid", ERROR,
                      f"{name} is not valid before {start:%Y-%m-%d %H:%M} UTC",
                      "check this host's clock (timedatectl), or reissue the certificate")
    elif end - now < dt.timedelta(days=warn_days):
        days = (end - now).days
        yield Finding("cert-expiring", WARNING, f"{name} expires in {days} days ({end:%Y-%m-%d})",
                      "renew it now, then restart influxd")


def _check_usage(cert: x509.Certificate, name: str) -> Findings:
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        if bc.ca:
            yield Finding("cert-is-ca", ERROR, f"{name} is a CA certificate, not a server one",
                          "point --tls-cert at the server certificate the CA issued")
    except x509.ExtensionNotFound:
        pass
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        if not ku.digital_signature:
            yield Finding("key-usage-no-digital-signature", WARNING,
                          f"{name} key usage lacks digitalSignature (the upstream guide's "
                          "keyEncipherment, dataEncipherment); strict clients reject it",
                          "reissue with keyUsage = digitalSignature, keyEncipherment")
    except x509.ExtensionNotFound:
        pass
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if x509.oid.ExtendedKeyUsageOID.SERVER_AUTH not in eku:
            yield Finding("eku-not-server-auth", ERROR,
                          f"{name} extended key usage does not include serverAuth",
                          "reissue with extendedKeyUsage = serverAuth")
    except x509.ExtensionNotFound:
        pass


def _check_chain(certs: list[x509.Certificate], name: str, ca: list[x509.Certificate] | None,
                 now: dt.datetime) -> Findings:
    leaf = certs[0]
    for child, parent in zip(certs, certs[1:], strict=False):
        if not signed_by(child, parent):
            yield Finding("chain-out-of-order", ERROR,
                          f"{name}: certificate {certs.index(parent) + 1} did not sign the one "
                          "before it", "order the file leaf first, then each issuer: "
                          "cat server.crt intermediate.crt > chain.crt")
            return
    top = certs[-1]
    self_signed = leaf.issuer == leaf.subject and len(certs) == 1
    if ca is None:
        if self_signed:
            yield Finding("cert-self-signed", INFO, f"{name} is self-signed",
                          "clients must trust this file itself (curl --cacert) or skip "
                          "verification; use a CA-signed certificate for verifiable identity")
        return
    issuers = [c for c in ca if signed_by(top, c)]
    if issuers:
        for c in [*certs[1:], *issuers]:
            if not_after(c) <= now:
                yield Finding("ca-expired", ERROR,
                              f"{name} does not verify: its issuer "
                              f"'{c.subject.rfc4514_string()}' expired on "
                              f"{not_after(c):%Y-%m-%d} UTC",
                              "create a new CA, give it to clients, and reissue the server "
                              "certificate from it")
                return
        return
    if top.issuer != top.subject and not any(c.subject == top.issuer for c in ca):
        yield Finding("chain-missing-intermediate", ERROR,
                      f"{name}: no certificate in the file or the CA file issued "
                      f"'{top.issuer.rfc4514_string()}'",
                      "append the intermediate certificate(s) from your CA to the certificate "
                      "file, leaf first")
        return
    yield Finding("ca-not-issuer", ERROR, f"{name} was not issued by the given CA",
                  "pass the CA that signed it (--ca), or reissue from that CA")


def _check_host(cert: x509.Certificate, name: str, host: str) -> Findings:
    sans = cert_sans(cert)
    if sans is None:
        yield Finding("cert-cn-only", ERROR,
                      f"{name} has no subjectAltName; clients ignore the CN, so '{host}' fails "
                      "hostname verification", "reissue with subjectAltName = DNS:" + host)
    elif not host_matches(sans, host):
        listed = ", ".join(str(s) for s in sans) or "none"
        yield Finding("host-not-covered", ERROR,
                      f"{name} does not cover '{host}' (its SANs: {listed})",
                      f"reissue with '{host}' in subjectAltName, or connect with a listed name")


def _check_key_file(key_path: Path) -> Findings:
    mode = key_path.stat().st_mode
    if mode & 0o077 & ~0o040:
        yield Finding("key-too-open", WARNING,
                      f"{key_path} is readable by others (mode {stat.S_IMODE(mode):04o})",
                      f"chmod 600 {key_path} (or 640 with group influxdb)")
    elif mode & 0o040:
        group = key_path.stat().st_gid
        yield Finding("key-group-readable", INFO,
                      f"{key_path} is readable by group {group}",
                      "fine when that group is influxd's own; otherwise chmod 600")


def _unusable_key(name: str, kind: str) -> Finding:
    return Finding("key-type-unsupported", ERROR,
                   f"{name} holds a {kind} key; influxd {influxd_version()} cannot use it "
                   f"(\"tls: failed to parse private key\"); it takes {INFLUXD_KEY_TYPES}",
                   "generate a new pair: runbook certs self-signed --key-type p256 (or rsa2048)")


def _check_keys(leaf: x509.Certificate, name: str) -> Findings:
    """Key types and sizes influxd or its clients refuse; signatures they reject."""
    try:
        kind, usable = key_kind(leaf.public_key())
    except (ValueError, UnsupportedAlgorithm) as exc:
        yield _unusable_key(name, f"unsupported ({exc})")
        return
    if not usable:
        yield _unusable_key(name, kind)
    pub = leaf.public_key()
    if isinstance(pub, rsa.RSAPublicKey) and pub.key_size < MIN_RSA_BITS:
        yield Finding("key-too-small", ERROR,
                      f"{name} has an {pub.key_size}-bit RSA key; clients at OpenSSL's default "
                      f"security level refuse RSA under {MIN_RSA_BITS} bits",
                      "reissue with --key-type rsa2048 (or p256)")
    try:
        algorithm = leaf.signature_hash_algorithm
    except UnsupportedAlgorithm:
        algorithm = None
    if algorithm is not None and algorithm.name in WEAK_HASHES:
        yield Finding("cert-weak-signature", ERROR,
                      f"{name} is signed with {algorithm.name.upper()}; Go clients (Telegraf, "
                      "the influx CLI) and OpenSSL 3 reject such signatures",
                      "reissue it signed with SHA-256 (runbook certs issue does)")


def _guarded(name: str, checks: Findings) -> list[Finding]:
    """Run a check; a malformed certificate becomes a finding, not a crash."""
    try:
        return list(checks)
    except (ValueError, UnsupportedAlgorithm) as exc:
        return [Finding("cert-malformed", ERROR, f"{name} cannot be examined: {exc}",
                        "reissue the certificate; this one is malformed")]


def _key_in_certificate(cert_path: Path, key_path: Path,
                        certs: list[x509.Certificate] | None) -> list[Finding]:
    """A private key inside the certificate file, when that is not also the
    key file (one file for both is a key file: its mode is checked as one)."""
    if certs is None or _same_file(cert_path, key_path):
        return []
    labels = private_key_labels(read_input(cert_path, "certificate"))
    if not labels:
        return []
    err = key_in_certificate(cert_path, labels)
    return [Finding("cert-holds-private-key", ERROR, err.message, err.fix)]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def check_files(
    cert_path: str | os.PathLike[str],
    key_path: str | os.PathLike[str],
    *,
    host: str | None = None,
    ca_path: str | os.PathLike[str] | None = None,
    uid: int | None = INFLUXDB_UID,
    now: dt.datetime | None = None,
    warn_days: int = DEFAULT_WARN_DAYS,
) -> list[Finding]:
    """Every finding for a cert/key pair; InputError only for files that cannot be read."""
    cert_path, key_path = Path(cert_path), Path(key_path)
    now = now or dt.datetime.now(dt.UTC)
    findings: list[Finding] = []
    certs: list[x509.Certificate] | None = None
    key: PrivateKeyTypes | None = None
    try:
        certs = load_certificates(cert_path)
    except NotPem as exc:
        findings.append(Finding("cert-not-pem", ERROR, exc.message, exc.fix))
    try:
        key = load_private_key(key_path)
    except EncryptedKey as exc:
        findings.append(Finding("key-encrypted", ERROR, exc.message, exc.fix))
    except UnsupportedKey as exc:
        findings.append(Finding("key-type-unsupported", ERROR,
                                f"{exc.message}; influxd takes {INFLUXD_KEY_TYPES}", exc.fix))
    except NotPem as exc:
        findings.append(Finding("key-not-pem", ERROR, exc.message, exc.fix))
    ca = load_certificates(ca_path) if ca_path else None

    findings += _key_in_certificate(cert_path, key_path, certs)
    if certs:
        leaf, name = certs[0], str(cert_path)
        findings += _guarded(name, _check_validity(leaf, name, now, warn_days))
        findings += _guarded(name, _check_usage(leaf, name))
        findings += _guarded(name, _check_keys(leaf, name))
        findings += _guarded(name, _check_chain(certs, name, ca, now))
        if host:
            findings += _guarded(name, _check_host(leaf, name, host))
        if key is not None and not key_matches_cert(key, leaf):
            findings.append(Finding(
                "key-mismatch", ERROR,
                f"{key_path} does not belong to {cert_path}: their public keys differ",
                "use the key generated with this certificate's request, or reissue the "
                "certificate for this key"))
    findings += _check_key_file(key_path)
    leaf_only = certs is not None and len(certs) == 1 and certs[0].issuer != certs[0].subject
    findings += certbot_layout_findings(cert_path, key_path, leaf_only)
    if uid is not None:
        for path, what in ((cert_path, "certificate"), (key_path, "private key")):
            obstacle = read_obstacle(path, uid)
            if obstacle is not None:
                findings.append(Finding(
                    "unreadable-by-influxd", ERROR,
                    f"{path}: the {what} is not readable by uid {uid}, the user influxd runs "
                    f"as: {obstacle}",
                    readable_fix(path, uid, private=what == "private key")))
    return findings
