"""`runbook doctor`: each known symptom's example line is recognised as itself."""

from __future__ import annotations

import subprocess
import sys

import pytest

from runbook.doctor import SYMPTOMS, diagnose


@pytest.mark.parametrize("symptom", SYMPTOMS, ids=lambda s: s.id)
def test_example_line_is_diagnosed_as_its_own_symptom(symptom):
    found = diagnose(symptom.example)
    assert [s.id for _, s in found] == [symptom.id]


def test_unrelated_lines_are_not_diagnosed():
    assert diagnose('ts=2026 lvl=info msg="Starting query controller" service=storage') == []


def test_cli_reads_stdin_and_exits_1_when_it_finds_a_symptom():
    line = "Post \"https://localhost:8086/api/v2/write\": tls: failed to verify certificate: " \
           "x509: certificate signed by unknown authority"
    proc = subprocess.run([sys.executable, "-m", "runbook", "doctor"], input=line,
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "[unknown-authority]" in proc.stdout and "tls_ca" in proc.stdout


def test_cli_exits_0_on_a_clean_log():
    proc = subprocess.run([sys.executable, "-m", "runbook", "doctor"], input="all good\n",
                          capture_output=True, text=True)
    assert (proc.returncode, proc.stdout.strip()) == (0, "No known TLS symptom found.")


def test_every_symptom_has_its_heading_on_the_troubleshooting_page():
    import re
    from pathlib import Path

    from markdown.extensions.toc import slugify

    page = Path(__file__).resolve().parents[2] / "docs" / "troubleshoot.md"
    headings = re.findall(r"^#+ (.+)$", page.read_text(), re.M)
    anchors = {slugify(h.replace("`", ""), "-") for h in headings}
    assert [s.section for s in SYMPTOMS if s.section not in anchors] == []
