"""Certificates for a TLS influxd: self-signed, a local CA, leaves it signs, wildcards.

Defaults suit a local operator: SANs localhost, 127.0.0.1 and ::1, RSA 2048,
key usage that every client accepts. Objects know how to write themselves;
private keys are written 0600 from the first byte and never replace a file
unless asked.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from runbook.errors import UnusableCA, UsageError
from runbook.facts import INFLUXDB_GID, INFLUXDB_UID
from runbook.files import write_together
from runbook.tls.cert_choices import (
    DEFAULT_CA_DAYS,
    DEFAULT_KEY_TYPE,
    DEFAULT_LEAF_DAYS,
    KEY_TYPES,
    MAX_DAYS,
)
from runbook.tls.names import LOCAL_SANS, San, parse_sans

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
# Keys a CA may sign with here: what Go (influxd, Telegraf) and OpenSSL clients verify.
SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
SIGNING_CURVES = ("secp256r1", "secp384r1", "secp521r1")
MAX_CN = 64  # X.509's upper bound for a common name


def generate_key(key_type: str = DEFAULT_KEY_TYPE) -> PrivateKey:
    """A new private key of one of KEY_TYPES."""
    if key_type.startswith("rsa") and key_type in KEY_TYPES:
        return rsa.generate_private_key(public_exponent=65537, key_size=int(key_type[3:]))
    if key_type == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "p384":
        return ec.generate_private_key(ec.SECP384R1())
    raise UsageError(
        f"unknown key type {key_type!r}",
        fix=f"choose one of: {', '.join(KEY_TYPES)}",
        key_type=key_type,
    )


def key_pem(key: SigningKey, passphrase: bytes | None = None) -> bytes:
    """PEM of `key`, PKCS#8; encrypted when a passphrase is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _check_days(days: int) -> int:
    if not isinstance(days, int) or days < 1 or days > MAX_DAYS:
        raise UsageError(
            f"validity of {days!r} days is out of range",
            fix=f"give a whole number of days from 1 to {MAX_DAYS}",
            days=days,
        )
    return days


def _name(common_name: str) -> x509.Name:
    if not 1 <= len(common_name) <= MAX_CN or not common_name.strip():
        raise UsageError(
            f"a common name must have 1 to {MAX_CN} characters, not {len(common_name)}",
            fix="choose a shorter name (clients check the SANs, not the common name)",
            common_name=common_name[:MAX_CN])
    return _subject(common_name)


def _leaf_common_name(sans: list[San]) -> str:
    """The first SAN short enough to be a common name (clients ignore the CN anyway)."""
    return next((s.value for s in sans if len(s.value) <= MAX_CN), "influxdb server")


def _san_extension(sans: list[San]) -> x509.SubjectAlternativeName:
    general: list[x509.GeneralName] = []
    for san in sans:
        if san.kind == "dns":
            general.append(x509.DNSName(san.value))
        else:
            general.append(x509.IPAddress(ipaddress.ip_address(san.value)))
    return x509.SubjectAlternativeName(general)


def fitting_key_usage(key: CertificateIssuerPrivateKeyTypes, *, ca: bool) -> x509.KeyUsage:
    """The key usage every client accepts: digitalSignature (every modern handshake
    signs), keyEncipherment for an RSA leaf (TLS 1.2 RSA key exchange), and
    keyCertSign and cRLSign for a CA. The upstream guide omits digitalSignature,
    which strict clients reject (GUIDE_KEY_USAGE)."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=isinstance(key, rsa.RSAPrivateKey) and not ca,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


# Defects on purpose, for the trust matrix and the checks' test corpus.
# The upstream guide's keyUsage: keyEncipherment, dataEncipherment, no digitalSignature.
GUIDE_KEY_USAGE = x509.KeyUsage(
    digital_signature=False, content_commitment=False, key_encipherment=True,
    data_encipherment=True, key_agreement=False, key_cert_sign=False, crl_sign=False,
    encipher_only=False, decipher_only=False)
FITTING: Final = "fitting"  # key usage: fitting_key_usage()


def make_certificate(
    key: CertificateIssuerPrivateKeyTypes,
    common_name: str,
    *,
    sans: list[str] | tuple[str, ...] | None = None,
    issuer: CA | None = None,
    ca: bool | None = False,
    key_usage: x509.KeyUsage | None | Literal["fitting"] = FITTING,
    extended_key_usage: list[x509.ObjectIdentifier] | None | Literal["fitting"] = FITTING,
    days: int = DEFAULT_LEAF_DAYS,
    validity: tuple[dt.datetime, dt.datetime] | None = None,
    ski: bool = True,
    aki: bool | None = None,
    extensions: list[x509.ExtensionType] | None = None,
) -> x509.Certificate:
    """The one certificate factory: `key`'s certificate for `common_name`, signed
    by `issuer` (None: by `key` itself). Every other option has the right default,
    and each is also a defect a test or the trust matrix can ask for:

    sans        DNS names and IPs; None: no subjectAltName (CN only)
    ca          basicConstraints CA flag (True on a leaf: as `openssl req -x509`);
                None: no basicConstraints
    key_usage   GUIDE_KEY_USAGE (no digitalSignature) or any other; None: none
    extended_key_usage  serverAuth on a leaf, none on a CA; or others (clientAuth)
    days, validity  validity from 5 minutes ago; or (not_before, not_after)
                (expired, not yet valid)
    ski, aki    subject and authority key identifiers; aki None: present unless
                self-signed CA (RFC 5280 spares only a CA's self-signed one the AKI)
    extensions  more, non-critical (a malformed SAN, ...)
    """
    signer = issuer.key if issuer else key
    issuer_name = issuer.cert.subject if issuer else _subject(common_name)
    now = _now()
    not_before, not_after_ = validity or (now - dt.timedelta(minutes=5),
                                          now + dt.timedelta(days=days))
    b = (x509.CertificateBuilder()
         .subject_name(_subject(common_name))
         .issuer_name(issuer_name)
         .public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         # Backdated by default, so clocks a little behind still accept it.
         .not_valid_before(not_before)
         .not_valid_after(not_after_))
    if ski:
        b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                            critical=False)
    if ca is not None:
        b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    if isinstance(key_usage, str):  # FITTING
        key_usage = fitting_key_usage(key, ca=bool(ca))
    if key_usage is not None:
        b = b.add_extension(key_usage, critical=True)
    if isinstance(extended_key_usage, str):  # FITTING
        extended_key_usage = None if ca else [ExtendedKeyUsageOID.SERVER_AUTH]
    if extended_key_usage is not None:
        b = b.add_extension(x509.ExtendedKeyUsage(extended_key_usage), critical=False)
    if sans is not None:
        b = b.add_extension(_san_extension(parse_sans(sans)), critical=False)
    if aki if aki is not None else (issuer is not None or not ca):
        b = b.add_extension(_authority_key_id(issuer, key), critical=False)
    for ext in extensions or []:
        b = b.add_extension(ext, critical=False)
    # SHA-256, or none for Ed25519; cryptography no longer signs with SHA-1 (openssl does)
    return b.sign(signer, None if isinstance(signer, ed25519.Ed25519PrivateKey)
                  else hashes.SHA256())


def _subject(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _authority_key_id(issuer: CA | None,
                      key: CertificateIssuerPrivateKeyTypes) -> x509.AuthorityKeyIdentifier:
    if issuer is None:  # self-signed: it names its own key as the issuer's
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key())
    try:
        ski = issuer.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    except x509.ExtensionNotFound:  # older CAs: derive it from the public key
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Issued:
    """A certificate, its private key and the chain above it (CA last)."""

    cert: x509.Certificate
    key: PrivateKey
    chain: list[x509.Certificate] = field(default_factory=list)

    @property
    def sans(self) -> list[str]:
        return [s.value for s in cert_sans(self.cert) or []]

    @property
    def not_after(self) -> dt.datetime:
        return not_after(self.cert)

    def cert_pem(self, *, with_chain: bool = False) -> bytes:
        """The certificate PEM; with_chain appends intermediates (not the root)."""
        pem = cert_pem(self.cert)
        if with_chain:
            for c in self.chain:
                if c.issuer != c.subject:
                    pem += cert_pem(c)
        return pem

    def key_pem(self, passphrase: bytes | None = None) -> bytes:
        return key_pem(self.key, passphrase)

    def write(
        self,
        cert_path: str | os.PathLike[str],
        key_path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        passphrase: bytes | None = None,
    ) -> tuple[Path, Path]:
        """Write the key (0600) and the certificate (0644) together, or neither."""
        k, c = write_together([(key_path, self.key_pem(passphrase), 0o600),
                               (cert_path, self.cert_pem(with_chain=True), 0o644)],
                              overwrite=overwrite)
        return c, k


@dataclass
class CA:
    """A local certificate authority that stands in for a public one."""

    cert: x509.Certificate
    key: SigningKey

    @classmethod
    def create(
        cls,
        common_name: str = "InfluxDB TLS runbook local CA",
        *,
        key_type: str = DEFAULT_KEY_TYPE,
        days: int = DEFAULT_CA_DAYS,
    ) -> CA:
        key = generate_key(key_type)
        _name(common_name)
        return cls(make_certificate(key, common_name, ca=True, days=_check_days(days)), key)

    @classmethod
    def load(cls, cert_path: str | os.PathLike[str], key_path: str | os.PathLike[str], *,
             now: dt.datetime | None = None) -> CA:
        """The CA in these files; UnusableCA when it must not sign, saying why."""
        from runbook.tls.pem import load_certificates, load_private_key

        cert = load_certificates(cert_path)[0]
        key = load_private_key(key_path)
        if not isinstance(key, SigningKey) or (
                isinstance(key, ec.EllipticCurvePrivateKey)
                and key.curve.name not in SIGNING_CURVES):
            kind = getattr(getattr(key, "curve", None), "name", None) or type(key).__name__
            raise UnusableCA(f"{key_path}: a {kind.lstrip('_')} key cannot sign certificates "
                             "that influxd's clients verify",
                             fix="create a CA with an RSA, ECDSA P-256/P-384/P-521 or Ed25519 "
                                 "key: runbook certs ca", path=str(key_path))
        _check_usable_ca(cert, key, str(cert_path), str(key_path), now or _now())
        return cls(cert, key)

    def cert_pem(self) -> bytes:
        return cert_pem(self.cert)

    def issue(
        self,
        sans: list[str] | tuple[str, ...] = LOCAL_SANS,
        *,
        key_type: str = DEFAULT_KEY_TYPE,
        days: int = DEFAULT_LEAF_DAYS,
        common_name: str | None = None,
    ) -> Issued:
        """A server certificate for `sans`, signed by this CA."""
        return _server_cert(sans, key_type=key_type, days=days, common_name=common_name,
                            issuer=self)

    def write(
        self,
        cert_path: str | os.PathLike[str],
        key_path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
    ) -> tuple[Path, Path]:
        k, c = write_together([(key_path, key_pem(self.key), 0o600),
                               (cert_path, self.cert_pem(), 0o644)], overwrite=overwrite)
        return c, k


def _check_usable_ca(cert: x509.Certificate, key: SigningKey, cert_name: str, key_name: str,
                     now: dt.datetime) -> None:
    """Raise UnusableCA when `cert` is not a CA, is out of its validity, or `key` is not its."""
    fix = "pass the CA certificate and its own key, or create a CA: runbook certs ca"
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        is_ca = bc.ca
    except x509.ExtensionNotFound:
        is_ca = False
    except ValueError as exc:
        raise UnusableCA(f"{cert_name}: its extensions are malformed: {exc}", fix=fix,
                         path=cert_name) from exc
    if not is_ca:
        raise UnusableCA(f"{cert_name} is not a CA certificate (no basicConstraints CA:TRUE); "
                         "certificates it signed would fail verification", fix=fix,
                         path=cert_name)
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        if not ku.key_cert_sign:
            raise UnusableCA(f"{cert_name}: its key usage lacks keyCertSign, so it may not sign "
                             "certificates", fix=fix, path=cert_name)
    except x509.ExtensionNotFound:
        pass
    if not_after(cert) <= now:
        raise UnusableCA(f"{cert_name}: the CA expired on {not_after(cert):%Y-%m-%d} UTC; "
                         "certificates it signs would not verify",
                         fix="create a new CA (runbook certs ca --force) and give it to clients",
                         path=cert_name)
    if not_before(cert) > now:
        raise UnusableCA(f"{cert_name}: the CA is not valid before "
                         f"{not_before(cert):%Y-%m-%d %H:%M} UTC",
                         fix="check this host's clock (timedatectl)", path=cert_name)
    der = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*der) != cert.public_key().public_bytes(*der):
        raise UnusableCA(f"{key_name} does not belong to {cert_name}: their public keys differ",
                         fix="pass the key the CA certificate was made with (--ca-key)",
                         path=key_name)


def self_signed(
    sans: list[str] | tuple[str, ...] = LOCAL_SANS,
    *,
    key_type: str = DEFAULT_KEY_TYPE,
    days: int = DEFAULT_LEAF_DAYS,
    common_name: str | None = None,
) -> Issued:
    """A self-signed server certificate: encryption without verifiable identity."""
    return _server_cert(sans, key_type=key_type, days=days, common_name=common_name)


def _server_cert(
    sans: list[str] | tuple[str, ...],
    *,
    key_type: str,
    days: int,
    common_name: str | None,
    issuer: CA | None = None,
) -> Issued:
    """A serverAuth leaf for `sans`: signed by `issuer`, or by itself."""
    parsed = parse_sans(list(sans))
    if not parsed:
        raise UsageError("a server certificate needs at least one SAN", fix="pass --san NAME")
    days = _check_days(days)
    key = generate_key(key_type)
    name = common_name or _leaf_common_name(parsed)
    _name(name)
    cert = make_certificate(key, name, sans=sans, issuer=issuer, days=days)
    return Issued(cert, key, [issuer.cert] if issuer else [])


def wildcard(ca: CA, domain: str, *, key_type: str = DEFAULT_KEY_TYPE,
             days: int = DEFAULT_LEAF_DAYS) -> Issued:
    """A `*.domain` certificate (plus the bare domain) for several servers."""
    return ca.issue([f"*.{domain}", domain], key_type=key_type, days=days)


def not_after(cert: x509.Certificate) -> dt.datetime:
    value = getattr(cert, "not_valid_after_utc", None)
    return value if value is not None else cert.not_valid_after.replace(tzinfo=dt.UTC)


def not_before(cert: x509.Certificate) -> dt.datetime:
    value = getattr(cert, "not_valid_before_utc", None)
    return value if value is not None else cert.not_valid_before.replace(tzinfo=dt.UTC)


def cert_sans(cert: x509.Certificate) -> list[San] | None:
    """The certificate's SANs, or None when it has no SAN extension at all."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    return [San("dns", v.lower()) for v in ext.get_values_for_type(x509.DNSName)] + [
        San("ip", str(v)) for v in ext.get_values_for_type(x509.IPAddress)
    ]


def write_server_dir(
    directory: str | os.PathLike[str],
    issued: Issued,
    ca: CA | None = None,
    *,
    uid: int = INFLUXDB_UID,
    gid: int = INFLUXDB_GID,
    overwrite: bool = False,
) -> Path:
    """server.crt, server.key (owned by the uid that runs influxd) and ca.crt:
    the folder a TLS influxd container mounts, written together or not at all."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = [(directory / "server.key", issued.key_pem(), 0o600),
             (directory / "server.crt", issued.cert_pem(with_chain=True), 0o644)]
    if ca is not None:
        files.append((directory / "ca.crt", ca.cert_pem(), 0o644))
    write_together(files, overwrite=overwrite, owners={directory / "server.key": (uid, gid)})
    return directory
