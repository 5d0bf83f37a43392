"""The trust matrix: its JSON agrees with a live run, doctor knows every refusal in it,
and the page's claims and the hook's rendering hold for the stored cells."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from runbook.checks.doctor import CLIENT_SYMPTOMS, MATRIX_PAGE, diagnose

ROOT = Path(__file__).resolve().parents[2]
MATRIX = json.loads((ROOT / "docs/assets/trust-matrix.json").read_text())
CELLS = MATRIX["cells"]
CLIENT_IDS = [c["id"] for c in MATRIX["clients"]]

# The findings a refusal of each variant may be diagnosed as: one cause, or a
# broader one when the client's words cannot tell (Chromium says ERR_CERT_INVALID
# for several defects, and names a CN-only certificate a name mismatch).
CAUSES = {
    "leaf-as-own-ca": {"issuer-not-ca", "cert-invalid"},
    "no-digital-signature": {"key-usage"},
    "cn-only": {"no-san", "hostname-mismatch"},
    "ip-missing": {"ip-not-in-sans", "hostname-mismatch"},
    "issuer-not-ca": {"issuer-not-ca", "cert-invalid"},
    "missing-intermediate": {"unknown-authority"},
    "expired": {"expired"},
    "wrong-host": {"hostname-mismatch"},
    "sha1": {"weak-signature", "cert-invalid"},
    "rsa-1024": {"weak-key"},
}
REFUSALS = [(v, c, cell["error"]) for v, row in CELLS.items() for c, cell in row.items()
            if not cell["accepted"]]


def test_matrix_covers_every_variant_and_client():
    assert len(MATRIX["variants"]) == 12 and len(CLIENT_IDS) == 8
    assert all(set(row) == set(CLIENT_IDS) for row in CELLS.values())
    assert all(cell["accepted"] for cell in CELLS["good"].values())


@pytest.mark.parametrize("variant,client,error", REFUSALS,
                         ids=[f"{v}-{c}" for v, c, _ in REFUSALS])
def test_doctor_diagnoses_each_refusal_as_its_cause(variant, client, error):
    found = diagnose(error)
    assert found, f"doctor does not know: {error}"
    assert found[0][1].id in CAUSES[variant], (error, found[0][1].id)


@pytest.mark.parametrize("symptom", CLIENT_SYMPTOMS, ids=lambda s: s.id)
def test_client_symptom_example_is_diagnosed_as_itself(symptom):
    assert diagnose(symptom.example)[0][1] is symptom


def test_client_symptom_sections_exist_on_their_page():
    page = (ROOT / "docs" / MATRIX_PAGE).read_text()
    anchors = {v["id"] for v in MATRIX["variants"]} | set(re.findall(r"\{#([\w-]+)\}", page))
    assert [s.section for s in CLIENT_SYMPTOMS
            if s.page == MATRIX_PAGE and s.section not in anchors] == []


def accepted_by(variant: str) -> set[str]:
    return {c for c, cell in CELLS[variant].items() if cell["accepted"]}


def test_the_pages_claims_about_differences_hold():
    """docs/trust-matrix.md says these in prose; a new run that changes them fails here."""
    everyone = set(CLIENT_IDS)
    assert everyone - accepted_by("no-digital-signature") == {"gnutls-cli", "chromium"}
    assert everyone - accepted_by("cn-only") == {"influx-cli", "telegraf", "chromium"}
    assert everyone - accepted_by("leaf-as-own-ca") == {"nss-tstclnt", "chromium"}
    assert accepted_by("self-signed") == everyone
    assert accepted_by("sha1") == {"nss-tstclnt"}
    assert everyone - accepted_by("rsa-1024") == {"curl", "python"}
    for v in ("expired", "wrong-host", "ip-missing", "missing-intermediate", "issuer-not-ca"):
        assert accepted_by(v) == set(), v


def load_hook():
    from site_hooks import matrix

    return matrix


def test_hook_renders_every_cell_and_the_differences():
    hook = load_hook()
    parts = hook.render(MATRIX)
    rows = [r for r in parts["<!-- matrix:table -->"].splitlines() if r.startswith("| [")]
    assert len(rows) == 12 and all(r.count("✓") + r.count("✗") == 8 for r in rows)
    diff = {v for v, _, _ in hook.differing(MATRIX)}
    assert diff == {"leaf-as-own-ca", "no-digital-signature", "cn-only", "sha1", "rsa-1024"}
    page = (ROOT / "docs/trust-matrix.md").read_text()
    assert all(marker in page for marker in parts)


@pytest.mark.server
@pytest.mark.browser
def test_a_live_run_reproduces_the_stored_cells(runbook_image):
    """The stored JSON is what the clients say today, for the cells where stacks differ."""
    from lab.matrix import generate

    live = generate(["no-digital-signature", "cn-only", "leaf-as-own-ca"], progress=lambda _: None)
    for variant, row in live["cells"].items():
        for client, cell in row.items():
            assert cell == CELLS[variant][client], (variant, client)
