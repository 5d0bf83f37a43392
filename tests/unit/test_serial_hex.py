"""Serials are printed as openssl prints them, so pages can compare the two as text."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from runbook.tls.pem import serial_hex


@pytest.mark.parametrize("serial", [1, 0x0F, 0x10, 0x0ABC, 0x0F1E2D3C4B5A69788796A5B4C3D2E1F0,
                                    2**159 - 1])
def test_serial_hex_matches_openssl_x509_serial(serial, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "t")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(serial)
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    path = tmp_path / "c.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    out = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", str(path)],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == f"serial={serial_hex(serial)}"
