"""`runbook doctor`: each known symptom's example line is recognised as itself."""

from __future__ import annotations

import subprocess
import sys

import pytest

from runbook.checks.doctor import SYMPTOMS, diagnose


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


def test_echoed_lines_lose_terminal_escape_sequences(tmp_path):
    log = tmp_path / "influxd.log"
    log.write_bytes(b"\x1b]0;owned\x07\x1b[31mtls: failed to parse private key\x1b[0m"
                    b"\x1b[2J\x9b1m\r\n")
    for extra in ([], ["--json"]):
        proc = subprocess.run([sys.executable, "-m", "runbook", "doctor", "--log", str(log),
                               *extra], capture_output=True, text=True)
        assert proc.returncode == 1
        assert "tls: failed to parse private key" in proc.stdout
        assert not any(c in proc.stdout for c in "\x1b\x07\x9b\r"), repr(proc.stdout)
        assert "\\u001b" not in proc.stdout  # not in the JSON either


def test_json_output_is_bounded_on_a_log_of_matching_lines(tmp_path):
    line = b"tls: failed to parse private key\n"
    log = tmp_path / "influxd.log"
    log.write_bytes(line * (15 * 1024 * 1024 // len(line)))  # 15 MiB, under the read limit
    proc = subprocess.run([sys.executable, "-m", "runbook", "doctor", "--log", str(log),
                           "--json"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    import json

    report = json.loads(proc.stdout)
    assert len(report["diagnoses"]) == 1000
    assert report["truncated"].startswith("stopped after 1000 matching lines")
    assert len(proc.stdout) < 2 * 1024 * 1024, len(proc.stdout)
