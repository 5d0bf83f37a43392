"""sslyze's Mozilla checker as a second opinion on `runbook grade`, rule by rule.

sslyze is AGPL-3.0, so it is never imported here and never a dependency of
runbook: scripts/sslyze-venv.sh installs the pinned version into
build/sslyze-venv and the tests run its command line. Its verdicts are read
from what it prints after the scan ("* criterion: message"): its JSON holds
the scan results, not the verdicts (with `--json_out -` it skips the check).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "reports" / "grade-vs-sslyze.md"

# grade's deviation id -> sslyze's criterion, for the rules both check.
SHARED_RULES: dict[str, str] = {
    "tls-versions": "tls_versions",
    "ciphers": "ciphers",
    "tls13-suites": "ciphersuites",
    "tls-curves": "tls_curves",
    "certificate-type": "certificate_types",
    "certificate-curve": "certificate_curves",
    "rsa-key-size": "rsa_key_size",
    "certificate-signature": "certificate_signatures",
    "certificate-lifespan": "maximum_certificate_lifespan",
    "certificate-trust": "certificate_path_validation",
}
# What sslyze 6.3.1's checker (tls_config_checker.py) checks and grade does not.
SSLYZE_ONLY: tuple[str, ...] = (
    "ecdh_param_size", "dh_param_size",
    "tls_vulnerability_compression", "tls_vulnerability_ccs_injection",
    "tls_vulnerability_fallback_scsv", "tls_vulnerability_heartbleed",
    "tls_vulnerability_robot", "tls_vulnerability_renegotiation",
    "tls_vulnerability_extended_master_secret",
)
_KNOWN = set(SHARED_RULES.values()) | set(SSLYZE_ONLY)


class OracleError(AssertionError):
    """sslyze did not give a verdict (no venv, no connection, an incomplete scan)."""


@cache
def sslyze_command() -> str:
    """The venv's sslyze, made on first use (PyPI the first time, then reused)."""
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "sslyze-venv.sh")],
                          stdout=subprocess.PIPE, text=True, timeout=600)
    if proc.returncode != 0:
        raise OracleError(f"scripts/sslyze-venv.sh failed (exit {proc.returncode}); its "
                          "messages are above")
    return proc.stdout.strip().splitlines()[-1]


@dataclass(frozen=True)
class SslyzeVerdict:
    failed: dict[str, str]  # criterion -> sslyze's message; empty: compliant
    seconds: float
    supported_curves: list[str]


def _compliance_lines(stdout: str, target: str) -> dict[str, str]:
    """The `* criterion: message` lines under the target's verdict line."""
    lines = stdout.splitlines()
    at = next((i for i, line in enumerate(lines) if line.strip().startswith(f"{target}:")), None)
    if at is None:
        raise OracleError(f"sslyze printed no verdict for {target}:\n{stdout[-3000:]}")
    line = lines[at]
    verdict = line.split(":", 2)[-1].strip()
    if verdict.startswith("OK"):
        return {}
    if not verdict.startswith("FAILED"):
        raise OracleError(f"sslyze: {line.strip()}\n{stdout[-3000:]}")
    failed = {}
    for item in lines[at + 1:]:
        if not item.strip().startswith("* "):
            break
        criterion, _, message = item.strip()[2:].partition(": ")
        failed[criterion] = message
    unknown = set(failed) - _KNOWN
    if unknown:  # a new sslyze criterion: the tables above must learn it
        raise OracleError(f"sslyze criteria this comparison does not know: {unknown}")
    return failed


def sslyze_verdict(host: str, port: int, profile: str, ca_file: Path,
                   ip: str = "127.0.0.1") -> SslyzeVerdict:
    """Run sslyze's Mozilla `profile` check on host:port (connecting to `ip`)."""
    target = f"{host}:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "scan.json"
        started = time.monotonic()
        proc = subprocess.run(
            [sslyze_command(), f"--mozilla_config={profile}", f"--certinfo_ca_file={ca_file}",
             f"--json_out={out}", f"{target}{{{ip}}}"],
            capture_output=True, text=True, timeout=300)
        seconds = time.monotonic() - started
        if proc.returncode not in (0, 1) or not out.exists():
            raise OracleError(f"sslyze exit {proc.returncode}:\n{proc.stdout[-3000:]}"
                              f"\n{proc.stderr[-2000:]}")
        scan = json.loads(out.read_text())
    failed = _compliance_lines(proc.stdout, target)
    result = scan["server_scan_results"][0]["scan_result"]["elliptic_curves"]["result"]
    curves = [c["name"] for c in result.get("supported_curves") or []]
    return SslyzeVerdict(failed, seconds, curves)


@dataclass(frozen=True)
class Row:
    server: str
    profile: str
    rule: str  # grade's id, or "-" for a rule grade does not check
    criterion: str  # sslyze's
    grade: str  # "deviation", "pass", NOT_CHECKED or NOT_JUDGED
    sslyze: str  # "fail" or "pass"

    @property
    def agrees(self) -> bool:
        return self.grade in (NOT_CHECKED, NOT_JUDGED) or (self.grade == "deviation") == (
            self.sslyze == "fail")


NOT_CHECKED = "not checked"
# grade judges an ECDSA key's curve only when the profile allows ECDSA keys; when it
# does not (old), grade reports certificate-type alone, sslyze both type and curve.
NOT_JUDGED = "not judged (certificate-type)"


def _grade_verdict(rule: str, deviations: set[str], key_type: str | None) -> str:
    if rule in deviations:
        return "deviation"
    if rule == "certificate-curve" and key_type == "ecdsa" and "certificate-type" in deviations:
        return NOT_JUDGED
    return "pass"


def compare(server: str, profile: str, grade_json: dict, verdict: SslyzeVerdict) -> list[Row]:
    """One row per rule of sslyze's checker, with grade's verdict beside it."""
    deviations = {d["id"] for d in grade_json["deviations"]}
    unmapped = deviations - set(SHARED_RULES)
    if unmapped:
        raise OracleError(f"grade ids this comparison does not know: {unmapped}")
    key_type = (grade_json["scan"].get("certificate") or {}).get("key_type")
    rows = [Row(server, profile, rule, criterion, _grade_verdict(rule, deviations, key_type),
                "fail" if criterion in verdict.failed else "pass")
            for rule, criterion in SHARED_RULES.items()]
    rows += [Row(server, profile, "-", criterion, NOT_CHECKED,
                 "fail" if criterion in verdict.failed else "pass")
             for criterion in SSLYZE_ONLY]
    return rows


def markdown(rows: list[Row], heading: str, notes: str = "") -> str:
    """One server's rows as a table: a line per rule, a column per profile
    holding "grade's verdict, sslyze's verdict"."""
    profiles = list(dict.fromkeys(r.profile for r in rows))
    by_key = {(r.profile, r.criterion): r for r in rows}
    rules = list(dict.fromkeys((r.rule, r.criterion) for r in rows))
    out = [f"### {heading}", "", *([notes, ""] if notes else []),
           "| grade rule | sslyze criterion | " + " | ".join(profiles) + " |",
           "|" + " --- |" * (2 + len(profiles))]
    for rule, criterion in rules:
        cells = []
        for p in profiles:
            r = by_key[(p, criterion)]
            cells.append(f"{r.grade}, {r.sslyze}" + ("" if r.agrees else " **DISAGREE**"))
        out.append(f"| {rule} | {criterion} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def record(section: str, text: str) -> Path:
    """Write (or replace) one section of reports/grade-vs-sslyze.md."""
    REPORT.parent.mkdir(exist_ok=True)
    sections = {}
    if REPORT.exists():
        for part in REPORT.read_text().split("\n<!-- section: ")[1:]:
            name, _, body = part.partition(" -->\n")
            sections[name] = body
    sections[section] = text
    REPORT.write_text("# grade vs sslyze (written by the tests)\n" + "".join(
        f"\n<!-- section: {name} -->\n{body}" for name, body in sections.items()))
    return REPORT
