"""`runbook grade` against sslyze's Mozilla checker, on `openssl s_server`
servers (real OpenSSL, no Docker) in states influxd's levels in
test_grade_sslyze.py never reach.

The self-signed stand-in offers what influxd 2.9.1 offers with strict
ciphers (Go's TLS 1.2 suites for an RSA key, the curves P-521, P-384,
P-256). The vulnerability checks only sslyze makes
(renegotiation, Heartbleed...) see OpenSSL here, not Go: they are recorded,
not asserted.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from runbook.tls import certs
from tests.grade_vs_sslyze import disagreements, side_by_side
from tests.openssl_server import s_server

pytestmark = pytest.mark.oracle

INFLUXD_GROUPS = ["-groups", "P-521:P-384:P-256"]  # influxd's CurvePreferences
GO_STRICT = "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256"
GO_DEFAULT = f"{GO_STRICT}:ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA"

# level -> (certificate, s_server arguments, what influxd setting it stands for).
# influxd's own levels (defaults, strict, min 1.0, TLS 1.3 with RSA and P-256)
# are compared on influxd itself in test_grade_sslyze.py; standing in for them
# here too cost about 65 s of the suite's time and proved nothing more. What
# is left is the one state no influxd level there has: a self-signed pair.
LEVELS: dict[str, tuple[str, list[str], str]] = {
    "self-signed, strict": ("self-signed", ["-no_tls1", "-no_tls1_1", "-cipher", GO_STRICT,
                                            *INFLUXD_GROUPS],
                            "strict ciphers with `runbook certs self-signed` (configure.md's "
                            "state), trusted as its own CA"),
}


@pytest.fixture(scope="module")
def pairs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sslyze-pairs")
    rsa_ca = certs.CA.create()  # the defaults: RSA 2048, a 365-day leaf
    ec_ca = certs.CA.create(key_type="p256")
    self_signed = certs.write_server_dir(root / "self-signed", certs.self_signed())
    (self_signed / "ca.crt").write_bytes((self_signed / "server.crt").read_bytes())
    return {"rsa": certs.write_server_dir(root / "rsa", rsa_ca.issue(), rsa_ca),
            "p256": certs.write_server_dir(root / "p256", ec_ca.issue(days=90, key_type="p256"),
                                           ec_ca),
            "self-signed": self_signed}


@pytest.mark.parametrize("level", LEVELS)
def test_grade_agrees_with_sslyze_on_every_shared_rule(pairs, level):
    kind, args, description = LEVELS[level]
    d = pairs[kind]
    with s_server(d / "server.crt", d / "server.key", *args) as port:
        rows = side_by_side(level, port, d / "ca.crt", "openssl s_server",
                            f"openssl s_server standing in for {description}")
    assert disagreements(rows) == []


def _openssl_self_signed(d: Path, key_args: list[str], *extensions: str) -> Path:
    """A self-signed pair for localhost by openssl itself (key types runbook refuses)."""
    d.mkdir()
    added = [a for ext in ("subjectAltName=DNS:localhost", *extensions) for a in ("-addext", ext)]
    subprocess.run(["openssl", "req", "-x509", "-newkey", *key_args, "-nodes", "-days", "30",
                    "-subj", "/CN=localhost", *added,
                    "-keyout", d / "server.key", "-out", d / "server.crt"],
                   check=True, capture_output=True, timeout=60)
    return d


LEAF = "basicConstraints=critical,CA:FALSE"


# Rules influxd's levels never trip (TLS 1.3 suites, certificate curve, RSA size,
# trust): servers that do, so that agreement there is tested too.
EDGES: dict[str, tuple[list[str], list[str], bool, str]] = {
    "P-521 key, CCM suite": (
        ["ec", "-pkeyopt", "ec_paramgen_curve:P-521"],
        ["-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_SHA256"], True,
        "a self-signed ECDSA P-521 certificate, TLS 1.3 with TLS_AES_128_CCM_SHA256"),
    "RSA 1024, untrusted": (
        ["rsa:1024"], ["-no_tls1", "-no_tls1_1", "-cipher", f"{GO_STRICT}:@SECLEVEL=0"], False,
        "a self-signed RSA 1024 certificate, checked against another CA"),
}


@pytest.mark.parametrize("edge", EDGES)
def test_grade_agrees_with_sslyze_where_influxd_never_goes(pairs, tmp_path, edge):
    key_args, args, trusted, description = EDGES[edge]
    d = _openssl_self_signed(tmp_path / "pair", key_args, LEAF)
    ca_file = d / "server.crt" if trusted else pairs["rsa"] / "ca.crt"
    with s_server(d / "server.crt", d / "server.key", *args) as port:
        rows = side_by_side(edge, port, ca_file, "openssl s_server", description)
    assert disagreements(rows) == []
    failed = {r.rule for r in rows if r.profile == "intermediate" and r.sslyze == "fail"}
    expected = ({"tls13-suites", "certificate-curve"} if trusted
                else {"rsa-key-size", "certificate-trust"})
    assert expected <= failed, failed


def test_a_self_signed_ca_true_leaf_is_where_grade_and_sslyze_differ(tmp_path):
    # `openssl req -x509` marks its certificate CA:TRUE unless told otherwise. Trusted
    # as its own CA, OpenSSL (grade, curl, Python) verifies it; sslyze's validator
    # (cryptography's, RFC 5280) refuses a CA certificate as the server's leaf.
    d = _openssl_self_signed(tmp_path / "pair", ["rsa:2048"])
    with s_server(d / "server.crt", d / "server.key", "-no_tls1", "-no_tls1_1", "-cipher",
                  GO_STRICT, *INFLUXD_GROUPS) as port:
        rows = side_by_side("CA:TRUE self-signed", port, d / "server.crt", "openssl s_server",
                            "strict ciphers with a self-signed RSA 2048 certificate marked "
                            "CA:TRUE (`openssl req -x509`'s default), trusted as its own CA")
    assert disagreements(rows) == [f"{p} certificate-trust: grade pass, sslyze fail"
                                   for p in ("modern", "intermediate", "old")]
