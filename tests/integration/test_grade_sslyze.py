"""`runbook grade` against sslyze's Mozilla checker on real influxd 2.9.1, at
each hardening level (docs/hardening.md, docs/grade.md) and on each profile.

Both must agree on every rule both check (tests/sslyze_oracle.py). What only
sslyze checks (renegotiation, extended master secret, Heartbleed, ROBOT, CCS
injection, fallback SCSV, compression, DH/ECDH sizes) is asserted to pass on
influxd, which is what grade.md says. The tables go to
reports/grade-vs-sslyze.md.
"""

from __future__ import annotations

import pytest

from lab.server import TLSInfluxd
from runbook.tls import certs
from tests.grade_vs_sslyze import disagreements, side_by_side
from tests.sslyze_oracle import NOT_CHECKED

pytestmark = [pytest.mark.server, pytest.mark.oracle]

# level -> (certificate, TLSInfluxd settings, what it is)
LEVELS: dict[str, tuple[str, dict[str, object], str]] = {
    "default": ("rsa", {}, "influxd's defaults (tls-min-version 1.2), RSA 2048, 365 days"),
    "strict (the demo)": ("rsa", {"strict_ciphers": True},
                          "tls-min-version 1.2 and tls-strict-ciphers, as runbook demo runs"),
    "min 1.0": ("rsa", {"min_version": "1.0"}, "tls-min-version 1.0 (hardening.md's lowest)"),
    "tls 1.3 only": ("rsa", {"min_version": "1.3"}, "tls-min-version 1.3, RSA 2048"),
    "tls 1.3, p256": ("p256", {"min_version": "1.3"},
                      "tls-min-version 1.3 with an ECDSA P-256 pair (90 days) from an ECDSA "
                      "CA, grade.md's best"),
}


@pytest.fixture(scope="module")
def pairs(cert_root):
    rsa_ca = certs.CA.create()  # the defaults: RSA 2048, a 365-day leaf
    ec_ca = certs.CA.create(key_type="p256")
    return {"rsa": certs.write_server_dir(cert_root / "sslyze-rsa", rsa_ca.issue(), rsa_ca),
            "p256": certs.write_server_dir(cert_root / "sslyze-p256",
                                           ec_ca.issue(days=90, key_type="p256"), ec_ca)}


@pytest.mark.parametrize("level", LEVELS)
def test_grade_agrees_with_sslyze_on_influxd(runbook_image, pairs, level):
    kind, settings, description = LEVELS[level]
    d = pairs[kind]
    with TLSInfluxd(cert_dir=d, ca_file=d / "ca.crt", owner="rb-grade-sslyze",
                    **settings) as server:  # type: ignore[arg-type]
        assert server.host_port is not None
        rows = side_by_side(level, server.host_port, d / "ca.crt", "influxd 2.9.1 in Docker",
                            f"influxd 2.9.1 in Docker, {description}")
    assert disagreements(rows) == []
    beyond_grade = {r.criterion for r in rows if r.grade == NOT_CHECKED and r.sslyze == "fail"}
    assert beyond_grade == set()
