"""Subject Alternative Names: parse what users type, match what clients check."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from runbook.errors import UsageError

# A DNS label per RFC 1123; a leading "*." wildcard is allowed in a SAN only.
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")

LOCAL_SANS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class San:
    kind: str  # "dns" or "ip"
    value: str

    def __str__(self) -> str:
        return f"{'DNS' if self.kind == 'dns' else 'IP'}:{self.value}"


def parse_san(text: str) -> San:
    """Parse `example.com`, `*.example.com`, `10.1.2.3`, `::1`, `DNS:x` or `IP:x`."""
    raw = text.strip()
    prefix, _, rest = raw.partition(":")
    if prefix.upper() in ("DNS", "IP") and rest:
        kind, value = prefix.lower(), rest.strip()
    else:
        kind, value = "", raw
    if kind in ("", "ip"):
        try:
            return San("ip", str(ipaddress.ip_address(value)))
        except ValueError:
            if kind == "ip":
                raise UsageError(
                    f"invalid IP address in SAN: {text!r}",
                    fix="write an IPv4 or IPv6 address, e.g. IP:127.0.0.1",
                    san=text,
                ) from None
    name = value.lower().rstrip(".")
    labels = name.split(".")
    if labels and labels[0] == "*":
        labels = labels[1:]
        if len(labels) < 2:
            raise UsageError(
                f"wildcard SAN {text!r} must sit above at least two labels",
                fix="write e.g. *.example.com, not *.com",
                san=text,
            )
    if len(name) > 253:
        raise UsageError(f"DNS name in SAN is {len(name)} characters; the limit is 253",
                         fix="use a shorter name", san=text[:80])
    if not name or not labels or not all(_LABEL.match(label) for label in labels):
        raise UsageError(
            f"invalid DNS name in SAN: {text!r}",
            fix="use letters, digits and hyphens in dot-separated labels, e.g. influx.example.com",
            san=text,
        )
    return San("dns", name)


def parse_sans(items: list[str] | tuple[str, ...]) -> list[San]:
    """Parse a list of SANs (each may hold several, comma-separated); drop repeats."""
    out: list[San] = []
    for item in items:
        for part in item.split(","):
            if part.strip():
                san = parse_san(part)
                if san not in out:
                    out.append(san)
    return out


def host_matches(sans: list[San], host: str) -> bool:
    """Whether a client connecting to `host` accepts a certificate with `sans`.

    Follows RFC 6125 as Go, curl and Python do: IPs match IP SANs exactly;
    a wildcard covers exactly one left-most label.
    """
    try:
        ip = str(ipaddress.ip_address(host.strip("[]")))
        return San("ip", ip) in sans
    except ValueError:
        pass
    host = host.lower().rstrip(".")
    for san in sans:
        if san.kind != "dns":
            continue
        if san.value == host:
            return True
        if san.value.startswith("*."):
            head, _, tail = host.partition(".")
            if head and tail == san.value[2:]:
                return True
    return False
