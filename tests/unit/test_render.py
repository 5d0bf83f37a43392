"""Results render themselves: the text a command prints and the JSON --json prints
come from the result, and the JSON is the same data as before the text existed."""

from __future__ import annotations

import json

from runbook.checks.doctor import SYMPTOMS, Diagnoses
from runbook.checks.findings import ERROR, Finding, Findings
from runbook.ready import Ready
from runbook.render import render
from runbook.tls.probe import ProbeResult

BAD = Finding("key-mismatch", ERROR, "the key does not match", "use the pair's own key")


def test_findings_say_ok_when_empty_and_keep_their_extra_keys_for_json_only():
    assert render(Findings([])) == "OK: no findings"
    shown = Findings([BAD], {"user": {"uid": 1000}})
    assert render(shown) == ("ERROR [key-mismatch] the key does not match\n"
                             "  fix: use the pair's own key")
    assert json.loads(render(shown, as_json=True)) == {"findings": [BAD.as_dict()],
                                                       "user": {"uid": 1000}}


def test_doctor_names_a_symptom_once_in_text_but_lists_every_line_in_json():
    symptom = SYMPTOMS[0]
    found = [("line one", symptom), ("line two", symptom)]
    assert render(Diagnoses(found)).count(f"[{symptom.id}]") == 1
    data = json.loads(render(Diagnoses(found), as_json=True))
    assert [d["line"] for d in data["diagnoses"]] == ["line one", "line two"]
    assert "truncated" not in data
    assert "truncated" in json.loads(render(Diagnoses(found, limit=2), as_json=True))
    assert render(Diagnoses([])) == "No known TLS symptom found."


def test_probe_lists_ciphers_only_when_asked_and_keeps_that_out_of_its_json():
    result = ProbeResult(url="https://localhost:8086", verified=True)
    assert "TLS 1.2 ciphers accepted" not in render(result)
    result.ciphers_listed = True
    assert "TLS 1.2 ciphers accepted: \n" in render(result) + "\n"
    assert "ciphers_listed" not in json.loads(render(result, as_json=True))


def test_ready_renders_the_line_wait_prints():
    ready = Ready("https://localhost:8086/health", 200, 0.123)
    assert render(ready) == "ready: https://localhost:8086/health answered 200 after 0.12 s"
    assert json.loads(render(ready, as_json=True))["status"] == 200


def test_a_written_ca_says_where_its_files_are_and_what_to_run_next():
    from pathlib import Path

    from runbook.cli.certs import CAWritten

    made = CAWritten(Path("ca.crt"), Path("ca.key"))
    assert render(made).splitlines() == [
        "Created a local CA:", "  certificate  ca.crt  (give this to clients)",
        "  private key  ca.key  (0600; keep it off servers)",
        "Next: runbook certs issue --ca-cert ca.crt --ca-key ca.key --san localhost"]
    assert json.loads(render(made, as_json=True))["kept"] is False
    kept = CAWritten(Path("ca.crt"), Path("ca.key"), kept=True)
    assert render(kept) == "CA already exists: ca.crt (kept; --force to replace)"
