"""`runbook grade` against real influxd 2.9.1 at each hardening level, and bad input."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from lab.server import TLSInfluxd
from runbook.tls import certs
from runbook.tls.grade import NOT_CONFIGURABLE, grade
from runbook.tls.scan import scan

pytestmark = pytest.mark.server
RUNBOOK = [sys.executable, "-m", "runbook"]


@pytest.fixture(scope="module")
def pairs(cert_root):
    ca = certs.CA.create()
    rsa = certs.write_server_dir(cert_root / "grade-rsa", ca.issue(days=90), ca)
    ec_ca = certs.CA.create(key_type="p256")  # modern wants an ECDSA signature too
    p256 = certs.write_server_dir(cert_root / "grade-p256",
                                  ec_ca.issue(days=90, key_type="p256"), ec_ca)
    return {"rsa": rsa, "p256": p256}


@contextlib.contextmanager
def influxd(pairs, kind: str = "rsa", **kw: object) -> Iterator[TLSInfluxd]:
    d = pairs[kind]
    with TLSInfluxd(cert_dir=d, ca_file=d / "ca.crt", owner="rb-grade-test", **kw) as s:
        yield s


@pytest.fixture(scope="module")
def default_server(runbook_image, pairs):
    with influxd(pairs) as s:
        yield s


def run_grade(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RUNBOOK, "grade", *args], capture_output=True, text=True,
                          timeout=120)


def deviations(server: TLSInfluxd, profile: str) -> dict[str, str]:
    result = grade(scan(server.url, ca_file=str(server.ca_file)), profile)
    return {d.id: d.setting for d in result.deviations}


def test_default_influxd_deviates_from_intermediate_by_cbc_suites_and_p521(default_server):
    proc = run_grade(default_server.url, "--profile", "intermediate", "--ca",
                     str(default_server.ca_file), "--json")
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    assert {d["id"]: d["setting"] for d in out["deviations"]} == {
        "ciphers": "tls-strict-ciphers = true", "tls-curves": NOT_CONFIGURABLE}
    assert out["scan"]["curves"] == ["prime256v1", "secp384r1", "secp521r1"]
    assert out["scan"]["tls13_suites"] == ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                           "TLS_CHACHA20_POLY1305_SHA256"]
    assert out["scan"]["verify_error"] is None


def test_strict_ciphers_leave_only_the_curves(runbook_image, pairs):
    with influxd(pairs, strict_ciphers=True) as s:
        assert deviations(s, "intermediate") == {"tls-curves": NOT_CONFIGURABLE}


def test_tls13_with_p256_is_modern_but_for_the_curves(runbook_image, pairs):
    with influxd(pairs, "p256", min_version="1.3") as s:
        assert deviations(s, "modern") == {"tls-curves": NOT_CONFIGURABLE}
        assert deviations(s, "intermediate") == {"tls-curves": NOT_CONFIGURABLE}


def s_client_accepts(port: int, *flags: str) -> bool:
    proc = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *flags],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    return proc.returncode == 0


def test_curves_and_suites_agree_with_openssl_s_client(default_server):
    s = scan(default_server.url, ca_file=str(default_server.ca_file))
    port = default_server.host_port
    for group in ("X25519", "prime256v1", "secp384r1", "secp521r1", "X448"):
        assert s_client_accepts(port, "-tls1_3", "-groups", group) == (group in s.curves), group
    outside = [c for c in s.ciphers if c.endswith("-SHA")]
    assert outside == ["ECDHE-RSA-AES256-SHA", "ECDHE-RSA-AES128-SHA"]
    for cipher in outside:
        assert s_client_accepts(port, "-tls1_2", "-cipher", cipher)
    assert not s_client_accepts(port, "-tls1_2", "-cipher", "AES128-GCM-SHA256")
    assert "AES128-GCM-SHA256" not in s.ciphers


def one_line_error(proc: subprocess.CompletedProcess[str], started: float, limit: float) -> str:
    assert time.monotonic() - started < limit
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    first, *rest = proc.stderr.splitlines()
    assert first.startswith("ERROR: ") and all(line.startswith("  fix: ") for line in rest)
    assert "Traceback" not in proc.stderr
    return first


def test_closed_port_is_bad_input():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    line = one_line_error(run_grade(f"https://127.0.0.1:{port}", "--timeout", "2"), started, 20)
    assert f"cannot connect to 127.0.0.1:{port}" in line


def test_silent_server_is_bad_input_within_the_timeout():
    with socket.socket() as sock:  # listens (the kernel completes the connection), never speaks
        sock.bind(("127.0.0.1", 0))
        sock.listen(4)
        started = time.monotonic()
        proc = run_grade(f"https://127.0.0.1:{sock.getsockname()[1]}", "--timeout", "1")
    line = one_line_error(proc, started, 15)
    assert "gave no answer within 1s (TLS handshake)" in line


def test_plain_http_port_is_bad_input(runbook_image):
    with TLSInfluxd(tls=False, owner="rb-grade-test") as s:
        started = time.monotonic()
        line = one_line_error(run_grade(f"https://localhost:{s.host_port}"), started, 30)
    assert f"localhost:{s.host_port} serves plain HTTP, not TLS" in line


def test_unknown_profile_is_bad_input():
    started = time.monotonic()
    line = one_line_error(run_grade("https://localhost:8086", "--profile", "paranoid"), started,
                          15)
    assert "'paranoid' is not one of 'modern', 'intermediate', 'old'" in line


def test_an_http_url_is_bad_input():
    started = time.monotonic()
    line = one_line_error(run_grade("http://localhost:8086"), started, 15)
    assert line == "ERROR: grade needs an https:// URL, not 'http://localhost:8086'"
