"""Load certificates and keys from files, and say precisely what is wrong."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from runbook.errors import InputError
from runbook.files import read_input

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

# A BEGIN or END line; labels are short, so each match attempt is bounded and
# a scan of the whole file is linear (no search from every BEGIN to the end).
_MARKER = re.compile(rb"-----(BEGIN|END) ([A-Z0-9 ]{1,64})-----")


class NotPem(InputError):
    """The file is not PEM text (DER, truncated, or something else)."""


class EncryptedKey(InputError):
    """The private key needs a passphrase, which influxd cannot give."""


class UnsupportedKey(InputError):
    """A key or certificate of a type or curve this machine's cryptography cannot load."""


def pem_blocks(data: bytes) -> list[tuple[str, bytes]]:
    """(label, whole block) for every complete PEM block in `data`, in one pass.

    A BEGIN without its END is dropped; a later BEGIN starts afresh.
    """
    blocks: list[tuple[str, bytes]] = []
    label: bytes | None = None
    start = 0
    for m in _MARKER.finditer(data):
        if m.group(1) == b"BEGIN":
            label, start = m.group(2), m.start()
        elif label is not None and m.group(2) == label:
            blocks.append((label.decode(), data[start:m.end()]))
            label = None
    return blocks


class KeyInCertificate(InputError):
    """A certificate file that also holds a private key: whoever may read the
    certificate (usually everyone: mode 0644) may read the key."""


def private_key_labels(data: bytes) -> list[str]:
    """The labels of the private-key PEM blocks in `data` (RSA, EC, PKCS#8...)."""
    return [label for label, _ in pem_blocks(data) if label.endswith("PRIVATE KEY")]


def key_in_certificate(path: str | os.PathLike[str], labels: list[str]) -> KeyInCertificate:
    """The error (or finding text) for a certificate file holding a key."""
    return KeyInCertificate(
        f"{path} holds a private key (-----BEGIN {labels[0]}-----) beside the certificate: "
        "whoever can read the certificate, usually everyone, can read the key",
        fix=f"keep the key in a file of its own, mode 0600: (umask 077; openssl pkey -in {path} "
            f"-out server.key), then openssl x509 -in {path} -out server.crt (the chain's "
            "certificates after it), and give influxd the two files",
        path=str(path))


def refuse_key_in_certificate(path: str | os.PathLike[str]) -> None:
    """Raise KeyInCertificate if the certificate file at `path` holds a private key."""
    labels = private_key_labels(read_input(path, "certificate"))
    if labels:
        raise key_in_certificate(path, labels)


def describe_non_pem(data: bytes) -> str:
    if not data.strip():
        return "the file is empty"
    if data[:1] == b"\x30":
        return "the file is DER (binary), not PEM"
    if b"-----BEGIN" in data:
        return "a PEM block is truncated (no matching END line)"
    return "the file holds no PEM block"


def _not_pem(path: str | os.PathLike[str], data: bytes, what: str, openssl_cmd: str,
             label: str) -> NotPem:
    """The error for a file with no usable PEM block, with the fix for its kind."""
    fix = (
        f"convert it: openssl {openssl_cmd} -inform der -in {path} -out {path}.pem"
        if data[:1] == b"\x30"
        else f"point at the {what} file (-----BEGIN {label}-----)"
    )
    return NotPem(f"{path}: not a PEM {what}: {describe_non_pem(data)}", fix=fix, path=str(path))


def load_certificates(path: str | os.PathLike[str]) -> list[x509.Certificate]:
    """All certificates in a PEM file, in file order."""
    data = read_input(path, "certificate")
    blocks = [b for label, b in pem_blocks(data) if label == "CERTIFICATE"]
    if not blocks:
        raise _not_pem(path, data, "certificate", "x509", "CERTIFICATE")
    certs = []
    for block in blocks:
        try:
            certs.append(x509.load_pem_x509_certificate(block))
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise NotPem(
                f"{path}: a certificate block is corrupt: {_one_line(exc)}",
                fix="download or generate the certificate again",
                path=str(path),
            ) from exc
    return certs


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]


def load_private_key(path: str | os.PathLike[str],
                     passphrase: bytes | None = None) -> PrivateKeyTypes:
    """The private key in a PEM file; named errors for encrypted or non-PEM keys."""
    data = read_input(path, "private key")
    blocks = [(label, b) for label, b in pem_blocks(data) if "PRIVATE KEY" in label]
    if not blocks:
        raise _not_pem(path, data, "private key", "pkey", "PRIVATE KEY")
    label, block = blocks[0]
    encrypted = label == "ENCRYPTED PRIVATE KEY" or b"Proc-Type: 4,ENCRYPTED" in block
    if encrypted and passphrase is None:
        raise EncryptedKey(
            f"{path}: the private key is encrypted, and influxd has no passphrase option",
            fix=(
                f"write an unencrypted copy readable only by influxd: "
                f"(umask 077; openssl pkey -in {path} -out {path}.plain) "
                "and point --tls-key at it"
            ),
            path=str(path),
        )
    try:
        return serialization.load_pem_private_key(block, password=passphrase)
    except UnsupportedAlgorithm as exc:
        raise UnsupportedKey(
            f"{path}: the private key is of a type or curve that cannot be used: "
            f"{_one_line(exc)}",
            fix="generate an RSA (2048 bits or more) or ECDSA P-256/P-384 key: "
                "runbook certs ... --key-type",
            path=str(path)) from exc
    except (ValueError, TypeError) as exc:
        raise NotPem(
            f"{path}: the private key cannot be read: {_one_line(exc)}",
            fix="check the passphrase, or generate the key again",
            path=str(path),
        ) from exc


def serial_hex(number: int) -> str:
    """A certificate serial as `openssl x509 -serial` prints it: upper-case
    hex, zero-padded to whole bytes, so the two can be compared as text."""
    text = f"{number:X}"
    return "0" + text if len(text) % 2 else text
