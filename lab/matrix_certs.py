"""The trust matrix's certificate variants: one good, ten with one thing wrong each.

Each variant is what a server presents (its chain and key), what the client
is told to trust, and the host name the client connects to. Everything else
is as in the good one, so a client that refuses a variant refuses it for
that one difference.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lab.image import INFLUXDB_GID, INFLUXDB_UID
from runbook.files import write_together

GOOD_SANS: tuple[str, ...] = ("localhost", "127.0.0.1")


@dataclass
class Variant:
    id: str
    title: str  # what is different, in a few words
    chain: list[x509.Certificate]  # what the server sends, leaf first
    key: rsa.RSAPrivateKey
    trust: x509.Certificate  # what the client is given as its CA file
    host: str = "localhost"  # what the client connects to

    def write(self, directory: Path) -> Path:
        """server.crt, server.key (influxd's uid, 0600) and trust.pem in `directory`."""
        directory.mkdir(parents=True, exist_ok=True)
        pem = serialization.Encoding.PEM
        key = self.key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
        write_together([
            (directory / "server.key", key, 0o600),
            (directory / "server.crt", b"".join(c.public_bytes(pem) for c in self.chain), 0o644),
            (directory / "trust.pem", self.trust.public_bytes(pem), 0o644),
        ], overwrite=False, owners={directory / "server.key": (INFLUXDB_UID, INFLUXDB_GID)})
        return directory


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _san(names: tuple[str, ...]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for n in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            entries.append(x509.DNSName(n))
    return x509.SubjectAlternativeName(entries)


_SERVER_KU = x509.KeyUsage(digital_signature=True, key_encipherment=True,
                           content_commitment=False, data_encipherment=False,
                           key_agreement=False, key_cert_sign=False, crl_sign=False,
                           encipher_only=False, decipher_only=False)
# The upstream guide's keyUsage: no digitalSignature.
_GUIDE_KU = x509.KeyUsage(digital_signature=False, key_encipherment=True,
                          content_commitment=False, data_encipherment=True,
                          key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False)
_CA_KU = x509.KeyUsage(digital_signature=True, key_encipherment=False, content_commitment=False,
                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                       crl_sign=True, encipher_only=False, decipher_only=False)


@dataclass
class _Issuer:
    cert: x509.Certificate
    key: rsa.RSAPrivateKey


def _ca(cn: str, issuer: _Issuer | None = None, *, ca: bool = True) -> _Issuer:
    """A CA (or, with ca=False, a leaf that will be misused as one), self-signed or
    signed by `issuer`."""
    key = _key()
    signer = issuer or _Issuer(None, key)  # type: ignore[arg-type]
    now = _now()
    b = (x509.CertificateBuilder().subject_name(_name(cn))
         .issuer_name(issuer.cert.subject if issuer else _name(cn))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(days=1))
         .not_valid_after(now + dt.timedelta(days=3650))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(_CA_KU if ca else _SERVER_KU, critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                        critical=False))
    if issuer:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer.key.public_key()), critical=False)
    if not ca:
        b = b.add_extension(_san(GOOD_SANS), critical=False)
    return _Issuer(b.sign(signer.key, hashes.SHA256()), key)


def _leaf(issuer: _Issuer | None, *, sans: tuple[str, ...] | None = GOOD_SANS,
          cn: str = "localhost", ku: x509.KeyUsage | None = _SERVER_KU,
          ca_flag: bool | None = False, key: rsa.RSAPrivateKey | None = None,
          days: tuple[int, int] = (-1, 90),
          ) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A server certificate signed by `issuer` (None: by itself)."""
    key = key or _key()
    now = _now()
    b = (x509.CertificateBuilder().subject_name(_name(cn))
         .issuer_name(issuer.cert.subject if issuer else _name(cn))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now + dt.timedelta(days=days[0]))
         .not_valid_after(now + dt.timedelta(days=days[1]))
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                        critical=False))
    if ca_flag is not None:
        b = b.add_extension(x509.BasicConstraints(ca=ca_flag, path_length=None), critical=True)
    if ku is not None:
        b = b.add_extension(ku, critical=True)
    if not ca_flag:
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                            critical=False)
    if sans is not None:
        b = b.add_extension(_san(sans), critical=False)
    signer_key = issuer.key if issuer else key
    b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
        signer_key.public_key()), critical=False)
    return b.sign(signer_key, hashes.SHA256()), key


def _sha1_leaf(issuer: _Issuer) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A SHA-1-signed leaf, otherwise like the good one. cryptography no longer signs
    with SHA-1, so openssl does (it still may, for certificates)."""
    key = _key()
    pem = serialization.Encoding.PEM
    with tempfile.TemporaryDirectory(prefix="rb-matrix-sha1-") as tmp:
        d = Path(tmp)
        (d / "ca.key").write_bytes(issuer.key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        (d / "ca.crt").write_bytes(issuer.cert.public_bytes(pem))
        csr = (x509.CertificateSigningRequestBuilder().subject_name(_name("localhost"))
               .sign(key, hashes.SHA256()))
        (d / "leaf.csr").write_bytes(csr.public_bytes(pem))
        (d / "ext.cnf").write_text(
            "[v3]\nbasicConstraints = critical, CA:FALSE\n"
            "keyUsage = critical, digitalSignature, keyEncipherment\n"
            "extendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost, IP:127.0.0.1\n"
            "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n")
        subprocess.run(  # noqa: S603 - fixed argv
            ["openssl", "x509", "-req", "-sha1", "-days", "90", "-in", str(d / "leaf.csr"),  # noqa: S607
             "-CA", str(d / "ca.crt"), "-CAkey", str(d / "ca.key"), "-set_serial",
             str(x509.random_serial_number()), "-extfile", str(d / "ext.cnf"),
             "-extensions", "v3", "-out", str(d / "leaf.crt")],
            check=True, capture_output=True, timeout=60)
        return x509.load_pem_x509_certificate((d / "leaf.crt").read_bytes()), key


Builder = Callable[[], Variant]


def _good() -> Variant:
    root = _ca("Matrix good CA")
    cert, key = _leaf(root)
    return Variant("good", "CA-signed, names localhost and 127.0.0.1", [cert], key, root.cert)


def _self_signed() -> Variant:
    # As `openssl req -x509` makes it: CA:TRUE, its own trust anchor.
    cert, key = _leaf(None, ku=None, ca_flag=True)
    return Variant("self-signed", "self-signed (CA:TRUE, as openssl req -x509 makes it), "
                   "trusted as itself", [cert], key, cert)


def _leaf_as_ca() -> Variant:
    cert, key = _leaf(None, ca_flag=False)
    return Variant("leaf-as-own-ca", "self-signed leaf (CA:FALSE) given to the client as its CA",
                   [cert], key, cert)


def _no_digital_signature() -> Variant:
    root = _ca("Matrix keyUsage CA")
    cert, key = _leaf(root, ku=_GUIDE_KU)
    return Variant("no-digital-signature", "keyUsage keyEncipherment, dataEncipherment (no "
                   "digitalSignature), as the upstream guide writes it", [cert], key, root.cert)


def _cn_only() -> Variant:
    root = _ca("Matrix CN-only CA")
    cert, key = _leaf(root, sans=None)
    return Variant("cn-only", "CN=localhost, no subjectAltName", [cert], key, root.cert)


def _ip_missing() -> Variant:
    root = _ca("Matrix IP CA")
    cert, key = _leaf(root, sans=("localhost",))
    return Variant("ip-missing", "SAN localhost only; the client connects to 127.0.0.1",
                   [cert], key, root.cert, host="127.0.0.1")


def _issuer_not_ca() -> Variant:
    fake = _ca("Matrix leaf signer", ca=False)
    cert, key = _leaf(fake)
    return Variant("issuer-not-ca", "signed by a leaf certificate (CA:FALSE) used as a CA",
                   [cert], key, fake.cert)


def _missing_intermediate() -> Variant:
    root = _ca("Matrix root CA")
    inter = _ca("Matrix intermediate CA", root)
    cert, key = _leaf(inter)
    return Variant("missing-intermediate", "signed by an intermediate the server does not send",
                   [cert], key, root.cert)


def _expired() -> Variant:
    root = _ca("Matrix expired CA")
    cert, key = _leaf(root, days=(-30, -1))
    return Variant("expired", "expired yesterday", [cert], key, root.cert)


def _wrong_host() -> Variant:
    root = _ca("Matrix wrong-host CA")
    cert, key = _leaf(root, sans=("example.com", "www.example.com", "10.1.2.3"), cn="example.com")
    return Variant("wrong-host", "the upstream guide's names: example.com, www.example.com, "
                   "10.1.2.3", [cert], key, root.cert)


def _sha1() -> Variant:
    root = _ca("Matrix SHA-1 CA")
    cert, key = _sha1_leaf(root)
    return Variant("sha1", "leaf signed with SHA-1", [cert], key, root.cert)


def _rsa1024() -> Variant:
    root = _ca("Matrix RSA-1024 CA")
    cert, key = _leaf(root, key=_key(1024))
    return Variant("rsa-1024", "leaf key RSA 1024 bits", [cert], key, root.cert)


BUILDERS: tuple[Builder, ...] = (_good, _self_signed, _leaf_as_ca, _no_digital_signature,
                                 _cn_only, _ip_missing, _issuer_not_ca, _missing_intermediate,
                                 _expired, _wrong_host, _sha1, _rsa1024)


def variants() -> list[Variant]:
    return [build() for build in BUILDERS]
