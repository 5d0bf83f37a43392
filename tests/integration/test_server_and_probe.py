"""lab.server and runbook.tls.probe against a real influxd 2.9.1 in Docker."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from lab.server import TLSInfluxd
from runbook.errors import ServerError, UsageError
from runbook.facts import INFLUXDB_GID, INFLUXDB_UID
from runbook.tls import certs
from runbook.tls.probe import probe

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(runbook_image, ca_cert_dir):
    with TLSInfluxd(cert_dir=ca_cert_dir, ca_file=ca_cert_dir / "ca.crt",
                    owner="pytest") as s:
        yield s


def s_client(port: int, ca: str, *flags: str) -> tuple[bool, str]:
    """openssl s_client's own view: did the handshake complete and verify?"""
    proc = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost",
         "-CAfile", ca, "-verify_hostname", "localhost", *flags],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    out = proc.stdout + proc.stderr
    return proc.returncode == 0 and "Verify return code: 0 (ok)" in out, out


def test_onboard_write_and_query_over_verified_https(server):
    token = server.onboard(org="acme", bucket="metrics")
    client = server.client(token)
    now = time.time_ns()
    client.write(f"probe,host=a value=1 {now}\nprobe,host=b value=2 {now}", org="acme",
                 bucket="metrics")
    rows = client.query('from(bucket:"metrics") |> range(start:-1h) |> count()', org="acme")
    assert sorted(int(r["_value"]) for r in rows) == [1, 1]


@pytest.mark.parametrize("version,flag", [("TLSv1.1", "-tls1_1"), ("TLSv1.2", "-tls1_2"),
                                          ("TLSv1.3", "-tls1_3")])
def test_probe_agrees_with_openssl_s_client(server, ca_cert_dir, version, flag):
    result = probe(server.url, ca_file=str(ca_cert_dir / "ca.crt"))
    ok, out = s_client(server.host_port, str(ca_cert_dir / "ca.crt"), flag,
                       "-cipher", "DEFAULT:@SECLEVEL=0")
    assert (result.versions[version] == "accepted") == ok, out
    # And both see the minimum of 1.2: 1.1 refused, 1.2 and 1.3 accepted.
    assert ok == (version != "TLSv1.1")


def test_probe_reports_the_certificate_verification_and_plain_http(server, ca_cert_dir):
    result = probe(server.url, ca_file=str(ca_cert_dir / "ca.crt"))
    assert result.verified and result.verify_error is None
    assert result.negotiated_version == "TLSv1.3"
    assert "DNS:localhost" in result.certificate["sans"]
    assert result.plain_http_refused is True


def test_probe_fails_verification_against_another_ca(server, tmp_path):
    other = tmp_path / "other.crt"
    other.write_bytes(certs.CA.create().cert_pem())
    result = probe(server.url, ca_file=str(other))
    assert not result.verified and "unable to get local issuer" in result.verify_error


def test_probe_fails_verification_for_a_name_not_in_the_certificate(server, ca_cert_dir):
    result = probe(server.url, ca_file=str(ca_cert_dir / "ca.crt"),
                   server_name="influxdb.example.test")
    assert not result.verified and "Hostname mismatch" in result.verify_error


def test_strict_ciphers_refuse_cbc_suites_that_the_default_accepts(runbook_image, ca_cert_dir):
    found = {}
    for strict in (False, True):
        with TLSInfluxd(cert_dir=ca_cert_dir, ca_file=ca_cert_dir / "ca.crt",
                        strict_ciphers=strict, owner="pytest") as s:
            found[strict] = set(probe(s.url, ca_file=str(ca_cert_dir / "ca.crt"),
                                      ciphers=True).tls12_ciphers)
    assert found[True] == {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
                           "ECDHE-RSA-CHACHA20-POLY1305"}
    assert "ECDHE-RSA-AES128-SHA" in found[False] - found[True]


def test_min_version_13_with_strict_logs_the_warning(runbook_image, ca_cert_dir):
    with TLSInfluxd(cert_dir=ca_cert_dir, ca_file=ca_cert_dir / "ca.crt", min_version="1.3",
                    strict_ciphers=True, owner="pytest") as s:
        result = probe(s.url, ca_file=str(ca_cert_dir / "ca.crt"))
        assert result.versions["TLSv1.2"].startswith("refused")
        assert "TLS version 1.3 does not support configuring strict ciphers" in s.logs()


def test_mismatched_pair_makes_influxd_exit_and_the_error_says_so(runbook_image, cert_dir,
                                                                   local_ca):
    d = certs.write_server_dir(cert_dir, local_ca.issue(), local_ca)
    (d / "server.key").unlink()
    local_ca.issue().write(d / "other.crt", d / "server.key")
    os.chown(d / "server.key", INFLUXDB_UID, INFLUXDB_GID)
    owner = f"pytest-failed-start-{os.getpid()}"
    with pytest.raises(ServerError, match="Failed to load x509 key pair"):
        TLSInfluxd(cert_dir=d, ca_file=d / "ca.crt", owner=owner).start(timeout=30)
    out = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=runbook.owner={owner}"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == []  # the failed start left no container behind


def test_root_only_key_is_refused_before_docker_is_touched(tmp_path, local_ca):
    local_ca.issue().write(tmp_path / "server.crt", tmp_path / "server.key")
    with pytest.raises(UsageError, match=f"not readable by uid {INFLUXDB_UID}"):
        TLSInfluxd(cert_dir=tmp_path, owner="pytest")


def test_only_tls_servers_take_credentials(runbook_image):
    with TLSInfluxd(tls=False, owner="pytest") as s, pytest.raises(UsageError):
        s.onboard()
