"""The trust matrix's certificate variants: one good, ten with one thing wrong each.

Each variant is what a server presents (its chain and key), what the client
is told to trust, and the host name the client connects to. Everything else
is as in the good one, so a client that refuses a variant refuses it for
that one difference.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from lab.image import INFLUXDB_GID, INFLUXDB_UID
from runbook.files import write_together
from runbook.tls.certs import CA, FITTING, GUIDE_KEY_USAGE, make_certificate

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


def _ca(cn: str, issuer: CA | None = None, *, ca: bool = True) -> CA:
    """A CA (or, with ca=False, a leaf that will be misused as one), self-signed or
    signed by `issuer`."""
    key = _key()
    now = _now()
    cert = make_certificate(key, cn, issuer=issuer, ca=ca, sans=None if ca else GOOD_SANS,
                            validity=(now - dt.timedelta(days=1), now + dt.timedelta(days=3650)),
                            aki=issuer is not None)
    return CA(cert, key)


def _leaf(issuer: CA | None, *, sans: tuple[str, ...] | None = GOOD_SANS,
          cn: str = "localhost", ku: x509.KeyUsage | None | Literal["fitting"] = FITTING,
          ca_flag: bool | None = False, key: rsa.RSAPrivateKey | None = None,
          days: tuple[int, int] = (-1, 90),
          ) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A server certificate signed by `issuer` (None: by itself), with one defect
    at most: its names, key usage, CA flag, key or validity."""
    key = key or _key()
    now = _now()
    cert = make_certificate(key, cn, sans=sans, issuer=issuer, ca=ca_flag, key_usage=ku,
                            validity=(now + dt.timedelta(days=days[0]),
                                      now + dt.timedelta(days=days[1])), aki=True)
    return cert, key


def _sha1_leaf(issuer: CA) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
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
    cert, key = _leaf(root, ku=GUIDE_KEY_USAGE)
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
