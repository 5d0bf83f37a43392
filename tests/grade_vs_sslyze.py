"""Grade one live server with `runbook grade` and with sslyze, for each profile,
and put their verdicts side by side (tests/sslyze_oracle.py has the rules)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.sslyze_oracle import ROOT, Row, compare, markdown, record, sslyze_verdict

PROFILES = ("modern", "intermediate", "old")


def run_grade(url: str, profile: str, ca_file: Path) -> tuple[dict, float]:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "runbook", "grade", url, "--profile", profile,
                           "--ca", str(ca_file), "--json"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    seconds = time.monotonic() - started
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout), seconds


def side_by_side(server: str, port: int, ca_file: Path, section: str,
                 description: str) -> list[Row]:
    """Every profile's rows for one server; the server's table goes to the report."""
    rows: list[Row] = []
    timings = []
    for profile in PROFILES:
        graded, grade_s = run_grade(f"https://localhost:{port}", profile, ca_file)
        verdict = sslyze_verdict("localhost", port, profile, ca_file)
        rows += compare(server, profile, graded, verdict)
        timings.append(f"{profile}: grade {grade_s:.2f} s, sslyze {verdict.seconds:.2f} s")
    notes = (f"{description}. Each cell: grade's verdict, sslyze's. "
             f"Curves sslyze found: {', '.join(verdict.supported_curves)}; grade found: "
             f"{', '.join(graded['scan']['curves'])}. Times: {'; '.join(timings)}.")
    record(f"{section}: {server}", markdown(rows, f"{server} ({section})", notes))
    return rows


def disagreements(rows: list[Row]) -> list[str]:
    return [f"{r.profile} {r.rule}: grade {r.grade}, sslyze {r.sslyze}"
            for r in rows if not r.agrees]
