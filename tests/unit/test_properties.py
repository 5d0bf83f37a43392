"""Property-based tests: SAN parsing, and generated pairs that always pass."""

from __future__ import annotations

import ipaddress
import subprocess
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runbook.checks.preflight import check_files
from runbook.errors import UsageError
from runbook.tls import certs
from runbook.tls.names import San, host_matches, parse_san, parse_sans

label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
# A top-level label is never all digits (so a name never reads as an IP address).
tld = st.from_regex(r"[a-z][a-z0-9]{0,9}", fullmatch=True)
dns_name = st.tuples(st.lists(label, max_size=3), tld).map(lambda t: ".".join([*t[0], t[1]]))
ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(str)


@given(dns_name)
def test_dns_names_round_trip(name):
    san = parse_san(name)
    assert san == San("dns", name)
    assert parse_san(str(san)) == san


@given(st.one_of(ipv4, ipv6))
def test_ip_addresses_round_trip_in_canonical_form(ip):
    san = parse_san(ip)
    assert san == San("ip", str(ipaddress.ip_address(ip)))
    assert parse_san(f"IP:{ip}") == san


@given(st.lists(st.one_of(dns_name, ipv4), min_size=1, max_size=6))
def test_comma_joined_and_repeated_lists_parse_the_same(items):
    assert parse_sans([",".join(items)]) == parse_sans(items) == parse_sans(items + items)


@given(st.text(alphabet=" !@#$%^&()=+[]{};'\"<>?/\\|`~", min_size=1, max_size=10))
def test_junk_is_a_usage_error_never_a_crash(junk):
    try:
        parse_sans([junk])
    except UsageError as exc:
        assert exc.fix


@given(label, dns_name)
def test_wildcard_covers_exactly_one_label(head, domain):
    sans = [San("dns", f"*.{domain}")] if "." in domain else []
    if sans:
        assert host_matches(sans, f"{head}.{domain}")
        assert not host_matches(sans, domain)
        assert not host_matches(sans, f"a.{head}.{domain}")


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(dns_name, ipv4), min_size=1, max_size=4),
       st.sampled_from(certs.KEY_TYPES[:1] + certs.KEY_TYPES[3:]),
       st.integers(min_value=31, max_value=800))
def test_generated_pair_always_passes_check_and_openssl_agrees(sans, key_type, days):
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        ca = certs.CA.create(key_type=key_type)
        ca.write(tmp / "ca.crt", tmp / "ca.key")
        issued = ca.issue(sans, key_type=key_type, days=days)
        c, k = issued.write(tmp / "s.crt", tmp / "s.key")
        findings = check_files(c, k, host=parse_sans(sans)[0].value, ca_path=tmp / "ca.crt",
                               uid=None)
        assert findings == []
        verify = subprocess.run(["openssl", "verify", "-CAfile", tmp / "ca.crt", c],
                                capture_output=True)
        assert verify.returncode == 0
        pub_c = subprocess.run(["openssl", "x509", "-noout", "-pubkey", "-in", c],
                               capture_output=True, check=True).stdout
        pub_k = subprocess.run(["openssl", "pkey", "-pubout", "-in", k],
                               capture_output=True, check=True).stdout
        assert pub_c == pub_k
