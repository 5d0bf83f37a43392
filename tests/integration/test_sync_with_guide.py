"""The guide's openssl recipe and runbook.tls.certs, judged side by side by
`runbook check`, by openssl (modulus, verify) and by a real influxd."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from lab.server import TLSInfluxd
from runbook.checks.preflight import ERROR, check_files
from runbook.errors import ServerError
from runbook.facts import INFLUXDB_GID, INFLUXDB_UID
from runbook.tls import certs

pytestmark = pytest.mark.server

# The guide's san.cnf with its SANs corrected to the names used here; its
# keyUsage is kept as the guide has it.
GUIDE_SAN_CNF = """\
[req]
distinguished_name = req_distinguished_name
req_extensions = v3_req
prompt = no
[req_distinguished_name]
CN = localhost
[v3_req]
keyUsage = keyEncipherment, dataEncipherment
extendedKeyUsage = serverAuth
subjectAltName = @alt_names
[alt_names]
DNS.1 = localhost
IP.1 = 127.0.0.1
"""


def guide_pair(d: Path) -> tuple[Path, Path]:
    """Exactly the guide's three openssl commands (CSR, then self-sign)."""
    (d / "san.cnf").write_text(GUIDE_SAN_CNF)
    subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", d / "server.key", "-out", d / "server.csr",
                    "-config", d / "san.cnf"], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", d / "server.csr",
                    "-signkey", d / "server.key", "-out", d / "server.crt", "-days", "365",
                    "-extensions", "v3_req", "-extfile", d / "san.cnf"],
                   check=True, capture_output=True)
    return d / "server.crt", d / "server.key"


def runbook_pair(d: Path) -> tuple[Path, Path]:
    return certs.self_signed(["localhost", "127.0.0.1"]).write(d / "server.crt",
                                                               d / "server.key")


def modulus_digest(kind: str, path: Path) -> str:
    mod = subprocess.run(["openssl", kind, "-noout", "-modulus", "-in", path],
                         capture_output=True, check=True).stdout
    return subprocess.run(["openssl", "md5"], input=mod, capture_output=True,
                          check=True).stdout.decode()


@pytest.mark.parametrize("maker", [guide_pair, runbook_pair], ids=["guide", "runbook"])
def test_both_recipes_are_judged_alike(runbook_image, cert_dir, maker):
    crt, key = maker(cert_dir)
    os.chown(key, INFLUXDB_UID, INFLUXDB_GID)
    errors = [f for f in check_files(crt, key, host="localhost") if f.severity == ERROR]
    assert errors == []
    assert modulus_digest("x509", crt) == modulus_digest("rsa", key)
    verify = subprocess.run(["openssl", "verify", "-CAfile", crt, crt], capture_output=True,
                            text=True)
    assert verify.returncode == 0, verify.stderr
    with TLSInfluxd(cert_dir=cert_dir, ca_file=crt, owner="pytest") as server:
        assert server.client().ping()


def test_only_the_guides_key_usage_draws_the_digital_signature_warning(cert_dir):
    (cert_dir / "g").mkdir()
    (cert_dir / "r").mkdir()
    guide = {f.id for f in check_files(*guide_pair(cert_dir / "g"), uid=None)}
    ours = {f.id for f in check_files(*runbook_pair(cert_dir / "r"), uid=None)}
    assert guide - ours == {"key-usage-no-digital-signature"}


@pytest.mark.parametrize("maker", [guide_pair, runbook_pair], ids=["guide", "runbook"])
def test_a_mismatched_key_is_refused_by_check_and_by_influxd(runbook_image, cert_dir, maker):
    crt, key = maker(cert_dir)
    key.unlink()
    certs.self_signed().write(cert_dir / "other.crt", key)
    os.chown(key, INFLUXDB_UID, INFLUXDB_GID)
    assert "key-mismatch" in {f.id for f in check_files(crt, key)}
    assert modulus_digest("x509", crt) != modulus_digest("rsa", key)
    with pytest.raises(ServerError, match="Failed to load x509 key pair"):
        TLSInfluxd(cert_dir=cert_dir, ca_file=crt, owner="pytest").start(timeout=30)


def test_an_encrypted_key_is_refused_by_check_and_by_influxd(runbook_image, cert_dir):
    issued = certs.self_signed()
    crt, key = issued.write(cert_dir / "server.crt", cert_dir / "server.key",
                            passphrase=b"secret")
    os.chown(key, INFLUXDB_UID, INFLUXDB_GID)
    assert "key-encrypted" in {f.id for f in check_files(crt, key)}
    with pytest.raises(ServerError, match="Failed to load x509 key pair"):
        TLSInfluxd(cert_dir=cert_dir, ca_file=crt, owner="pytest").start(timeout=30)
