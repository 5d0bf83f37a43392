"""Pre-flight findings for a certificate, its key, their files and influxd's user.

Each finding has a stable id (tests, docs and `runbook doctor` refer to it),
a severity, a message that names the file, and the fix.
"""

from __future__ import annotations

import datetime as dt
import grp
import os
import pwd
import stat
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from runbook.certs import INFLUXDB_UID, cert_sans, not_after, not_before
from runbook.names import host_matches
from runbook.pem import EncryptedKey, NotPem, load_certificates, load_private_key

ERROR, WARNING, INFO = "error", "warning", "info"
DEFAULT_WARN_DAYS = 30


@dataclass(frozen=True)
class Finding:
    id: str
    severity: str
    message: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def public_key_bytes(key) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_matches_cert(key, cert: x509.Certificate) -> bool:
    """True when the private key belongs to the certificate, for any key type."""
    return public_key_bytes(key.public_key()) == public_key_bytes(cert.public_key())


def signed_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether `issuer`'s key made `child`'s signature."""
    if child.issuer != issuer.subject:
        return False
    pub = issuer.public_key()
    try:
        if isinstance(pub, rsa.RSAPublicKey):
            pub.verify(child.signature, child.tbs_certificate_bytes, padding.PKCS1v15(),
                       child.signature_hash_algorithm or hashes.SHA256())
        elif isinstance(pub, ec.EllipticCurvePublicKey):
            pub.verify(child.signature, child.tbs_certificate_bytes,
                       ec.ECDSA(child.signature_hash_algorithm or hashes.SHA256()))
        else:
            return False
    except Exception:  # noqa: BLE001 - any failure means "not signed by it"
        return False
    return True


def can_read(path: Path, uid: int) -> bool:
    """Whether user `uid` could open `path` for reading (including its directories)."""
    if uid == 0:
        return True
    try:
        user = pwd.getpwuid(uid)
        gids = {user.pw_gid} | {g.gr_gid for g in grp.getgrall() if user.pw_name in g.gr_mem}
    except KeyError:
        gids = {uid}  # unknown on this host: images use a group with the same id

    def allowed(st: os.stat_result, owner_bit: int, group_bit: int, other_bit: int) -> bool:
        if st.st_uid == uid:
            return bool(st.st_mode & owner_bit)
        if st.st_gid in gids:
            return bool(st.st_mode & group_bit)
        return bool(st.st_mode & other_bit)

    path = path.resolve()
    for parent in reversed(path.parents):
        if not allowed(parent.stat(), stat.S_IXUSR, stat.S_IXGRP, stat.S_IXOTH):
            return False
    return allowed(path.stat(), stat.S_IRUSR, stat.S_IRGRP, stat.S_IROTH)


def _check_validity(cert: x509.Certificate, name: str, now: dt.datetime, warn_days: int):
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


def _check_usage(cert: x509.Certificate, name: str):
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


def _check_chain(certs: list[x509.Certificate], name: str, ca: list[x509.Certificate] | None):
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
    if top.issuer == top.subject and any(signed_by(top, c) for c in ca):
        return
    if any(signed_by(top, c) for c in ca):
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


def _check_host(cert: x509.Certificate, name: str, host: str):
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


def _check_key_file(key_path: Path, uid: int | None):
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
    certs = key = None
    try:
        certs = load_certificates(cert_path)
    except NotPem as exc:
        findings.append(Finding("cert-not-pem", ERROR, exc.message, exc.fix))
    try:
        key = load_private_key(key_path)
    except EncryptedKey as exc:
        findings.append(Finding("key-encrypted", ERROR, exc.message, exc.fix))
    except NotPem as exc:
        findings.append(Finding("key-not-pem", ERROR, exc.message, exc.fix))
    ca = load_certificates(ca_path) if ca_path else None

    if certs:
        leaf = certs[0]
        findings += _check_validity(leaf, str(cert_path), now, warn_days)
        findings += _check_usage(leaf, str(cert_path))
        findings += _check_chain(certs, str(cert_path), ca)
        if host:
            findings += _check_host(leaf, str(cert_path), host)
        if key is not None and not key_matches_cert(key, leaf):
            findings.append(Finding(
                "key-mismatch", ERROR,
                f"{key_path} does not belong to {cert_path}: their public keys differ",
                "use the key generated with this certificate's request, or reissue the "
                "certificate for this key"))
    findings += _check_key_file(key_path, uid)
    if uid is not None:
        for path, what in ((cert_path, "certificate"), (key_path, "private key")):
            if not can_read(path, uid):
                findings.append(Finding(
                    "unreadable-by-influxd", ERROR,
                    f"{path}: the {what} is not readable by uid {uid}, the user influxd runs as",
                    f"chown {uid}:{uid} {path} && chmod {'600' if what == 'private key' else '644'}"
                    f" {path}"))
    return findings

