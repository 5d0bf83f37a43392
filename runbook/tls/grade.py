"""Grade a scan against a Mozilla profile; each deviation names the influxd fix.

A deviation is something the server accepts that the profile rejects (as
sslyze's Mozilla checker counts them), or a certificate outside the
profile. Its `setting` is the influxd setting that removes it, or says that
influxd 2.9.1 cannot change it: influxd fixes the curve list to P-521,
P-384, P-256 for every listener (launcher.go, CurvePreferences) and always
allows TLS 1.3.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from runbook.tls.probe import CN_ONLY
from runbook.tls.profiles import GUIDELINES_VERSION, PROFILES, Profile
from runbook.tls.scan import Scan

NOT_CONFIGURABLE = "not configurable in influxd 2.9.1"
INFLUXD_CURVES = "influxd 2.9.1 sets CurvePreferences P-521, P-384, P-256 for every TLS listener"
NEW_PAIR = "tls-cert, tls-key (a new certificate)"
_MIN_VERSION_FOR = {"TLSv1.2": "1.2", "TLSv1.3": "1.3"}


@dataclass(frozen=True)
class Deviation:
    id: str
    message: str
    setting: str  # the influxd setting that fixes it, or NOT_CONFIGURABLE
    fix: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class Grade:
    profile: str
    scan: Scan
    deviations: list[Deviation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def compliant(self) -> bool:
        return not self.deviations

    def as_dict(self) -> dict[str, object]:
        return {"url": self.scan.url, "profile": self.profile,
                "guidelines_version": GUIDELINES_VERSION, "compliant": self.compliant,
                "deviations": [d.as_dict() for d in self.deviations], "notes": self.notes,
                "scan": self.scan.as_dict()}

    def text(self) -> str:
        s = self.scan
        verdict = "compliant" if self.compliant else f"{len(self.deviations)} deviation(s)"
        lines = [f"{s.url} against Mozilla {self.profile} (guidelines {GUIDELINES_VERSION}): "
                 f"{verdict}",
                 f"  versions     {', '.join(s.versions)}",
                 f"  TLS 1.2      {', '.join(s.ciphers) or '-'}",
                 f"  TLS 1.3      {', '.join(s.tls13_suites) or '-'}",
                 f"  curves       {', '.join(s.curves)}"]
        if s.certificate:
            c = s.certificate
            lines.append(f"  certificate  {c.key_type} {c.curve or c.key_bits}, {c.signature}, "
                         f"{c.lifespan_days} days, "
                         f"{'verified' if s.verify_error is None else 'NOT verified'}")
        for d in self.deviations:
            lines += [f"DEVIATION [{d.id}] {d.message}", f"  setting: {d.setting}",
                      f"  fix:     {d.fix}"]
        lines += [f"NOTE {note}" for note in self.notes]
        return "\n".join(lines)


def _versions(scan: Scan, p: Profile) -> list[Deviation]:
    extra = [v for v in scan.versions if v not in p.tls_versions]
    if not extra:
        return []
    floor = _MIN_VERSION_FOR.get(p.tls_versions[0])
    if floor is None:  # only the old profile starts below 1.2; nothing older exists
        return []
    return [Deviation(
        "tls-versions", f"{', '.join(extra)} accepted; {p.name} allows only "
        f"{', '.join(p.tls_versions)}", f"tls-min-version = \"{floor}\"",
        f"set tls-min-version to {floor} (flag --tls-min-version={floor}, "
        f"env INFLUXD_TLS_MIN_VERSION={floor}) and restart influxd")]


def _ciphers(scan: Scan, p: Profile) -> list[Deviation]:
    extra = [c for c in scan.ciphers if c not in p.ciphers]
    if not extra:
        return []
    if not p.ciphers:  # modern: TLS 1.2 itself goes, and its suites with it
        return [Deviation("ciphers", f"TLS 1.2 suites accepted ({', '.join(extra)}); "
                          f"{p.name} allows TLS 1.3 only", "tls-min-version = \"1.3\"",
                          "set tls-min-version to 1.3 and restart influxd")]
    return [Deviation("ciphers", f"suites outside {p.name} accepted: {', '.join(extra)}",
                      "tls-strict-ciphers = true",
                      "set tls-strict-ciphers (flag --tls-strict-ciphers, env "
                      "INFLUXD_TLS_STRICT_CIPHERS=true) with tls-min-version 1.2, restart "
                      "influxd")]


def _tls13(scan: Scan, p: Profile) -> list[Deviation]:
    extra = [x for x in scan.tls13_suites if x not in p.tls13_suites]
    if not extra:
        return []
    return [Deviation("tls13-suites", f"TLS 1.3 suites outside {p.name} accepted: "
                      f"{', '.join(extra)}", NOT_CONFIGURABLE,
                      "Go chooses its TLS 1.3 suites itself; influxd has no setting for them")]


def _curves(scan: Scan, p: Profile) -> list[Deviation]:
    extra = [c for c in scan.curves if c not in p.curves]
    if not extra:
        return []
    return [Deviation("tls-curves", f"key-exchange curves outside {p.name} accepted: "
                      f"{', '.join(extra)} (allowed: {', '.join(p.curves)})",
                      NOT_CONFIGURABLE, f"{INFLUXD_CURVES}; only a TLS proxy in front of "
                      "influxd can change the curves")]


def _certificate(scan: Scan, p: Profile) -> list[Deviation]:
    c = scan.certificate
    if c is None:
        return []
    out = []
    key_fix = {"ecdsa": "runbook certs issue --key-type p256 ...",
               "rsa": "runbook certs issue --key-type rsa2048 ..."}[p.certificate_types[0]]
    if c.key_type not in p.certificate_types:
        out.append(Deviation("certificate-type", f"an {c.key_type.upper()} certificate; "
                             f"{p.name} wants {' or '.join(p.certificate_types)}", NEW_PAIR,
                             f"issue a new pair ({key_fix}) and restart influxd"))
    elif c.key_type == "ecdsa" and c.curve not in p.certificate_curves:
        out.append(Deviation("certificate-curve", f"certificate key on {c.curve}; {p.name} "
                             f"wants {', '.join(p.certificate_curves)}", NEW_PAIR,
                             "issue a new pair (--key-type p256) and restart influxd"))
    elif c.key_type == "rsa" and p.rsa_key_size and c.key_bits < p.rsa_key_size:
        out.append(Deviation("rsa-key-size", f"RSA key of {c.key_bits} bits; {p.name} wants "
                             f"{p.rsa_key_size} or more", NEW_PAIR,
                             "issue a new pair (--key-type rsa2048) and restart influxd"))
    if c.signature not in p.certificate_signatures:
        out.append(Deviation("certificate-signature", f"certificate signed with {c.signature}; "
                             f"{p.name} wants {', '.join(p.certificate_signatures)}", NEW_PAIR,
                             f"have the CA sign a new certificate with "
                             f"{p.certificate_signatures[0]} and restart influxd"))
    if c.lifespan_days > p.max_lifespan_days:
        out.append(Deviation("certificate-lifespan", f"certificate valid for {c.lifespan_days} "
                             f"days; {p.name} allows at most {p.max_lifespan_days}", NEW_PAIR,
                             "issue one valid for 90 days (--days 90), renew it on a "
                             "schedule, restart influxd after each renewal"))
    if scan.verify_error is not None and CN_ONLY in scan.verify_error:
        out.append(Deviation("certificate-cn-only", f"certificate does not verify: "
                             f"{scan.verify_error}", NEW_PAIR,
                             "reissue it with the host names and IPs in subjectAltName "
                             "(runbook certs issue --san HOST) and restart influxd"))
    elif scan.verify_error is not None:
        out.append(Deviation("certificate-trust", f"certificate does not verify: "
                             f"{scan.verify_error}", "tls-cert (full chain, right names)",
                             "serve leaf + intermediates in tls-cert, with the URL's host in "
                             "the SANs; for a private CA pass --ca CA.crt"))
    return out


def _notes(scan: Scan, p: Profile) -> list[str]:
    notes = []
    if scan.untested_curves:
        notes.append(f"curves not tried (this machine's openssl cannot offer them): "
                     f"{', '.join(scan.untested_curves)}")
    if "X25519" in p.curves and "X25519" not in scan.curves + scan.untested_curves:
        notes.append(f"X25519, the profile's first curve, is not offered ({NOT_CONFIGURABLE}: "
                     f"{INFLUXD_CURVES}); clients that send an X25519 key share first need a "
                     "HelloRetryRequest")
    return notes


def grade(scan: Scan, profile: str) -> Grade:
    """The deviations of `scan` from Mozilla's `profile` (modern, intermediate, old)."""
    p = PROFILES[profile]
    deviations = [*_versions(scan, p), *_ciphers(scan, p), *_tls13(scan, p), *_curves(scan, p),
                  *_certificate(scan, p)]
    return Grade(profile, scan, deviations, _notes(scan, p))
