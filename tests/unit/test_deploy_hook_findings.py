"""The renewal failure modes as findings: `runbook check` on certbot's layout
(cert-without-chain, key-in-letsencrypt) and `runbook doctor` on what certbot
and probe print. docs/acme.md reproduces each against real certbot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markdown.extensions.toc import slugify

from runbook.checks.doctor import ACME_PAGE, ACME_SYMPTOMS, diagnose
from runbook.checks.preflight import check_files
from runbook.tls import certs

NAME = "influxdb.example.test"
ROOT = Path(__file__).resolve().parents[2]


def certbot_lineage(root: Path, leaf: certs.Issued, issuer: certs.CA) -> Path:
    """certbot's layout: archive/NAME/*1.pem and live/NAME/*.pem symlinks to them."""
    archive, live = root / "archive" / NAME, root / "live" / NAME
    archive.mkdir(parents=True)
    live.mkdir(parents=True)
    files = {"cert": leaf.cert_pem(), "chain": issuer.cert_pem(),
             "fullchain": leaf.cert_pem() + issuer.cert_pem(), "privkey": leaf.key_pem()}
    for stem, data in files.items():
        (archive / f"{stem}1.pem").write_bytes(data)
        (live / f"{stem}.pem").symlink_to(f"../../archive/{NAME}/{stem}1.pem")
    (archive / "privkey1.pem").chmod(0o600)
    return live


@pytest.fixture
def live(tmp_path):
    ca = certs.CA.create()
    return certbot_lineage(tmp_path, ca.issue([NAME]), ca)


def ids(findings) -> list[str]:
    return [f.id for f in findings]


def test_certbots_cert_pem_is_named_as_the_certificate_without_its_chain(live):
    found = check_files(live / "cert.pem", live / "privkey.pem", uid=None)
    assert "cert-without-chain" in ids(found)
    finding = next(f for f in found if f.id == "cert-without-chain")
    assert finding.severity == "error" and "fullchain.pem" in finding.fix


def test_certbots_fullchain_pem_is_not(live):
    assert "cert-without-chain" not in ids(check_files(live / "fullchain.pem",
                                                       live / "privkey.pem", uid=None))


def test_a_key_read_from_certbots_folder_is_a_warning_that_renewal_undoes_its_owner(live):
    found = check_files(live / "fullchain.pem", live / "privkey.pem", uid=None)
    key = next(f for f in found if f.id == "key-in-letsencrypt")
    assert key.severity == "warning" and "privkey1.pem" in key.message


def test_a_leaf_only_file_outside_certbots_layout_and_a_copied_key_are_not_flagged(tmp_path):
    ca = certs.CA.create()
    issued = ca.issue([NAME])
    cert, key = issued.write(tmp_path / "server.crt", tmp_path / "server.key")
    found = ids(check_files(cert, key, uid=None))
    assert "cert-without-chain" not in found and "key-in-letsencrypt" not in found


def test_a_self_signed_cert_pem_beside_a_fullchain_is_not_missing_a_chain(tmp_path):
    issued = certs.self_signed([NAME])
    (tmp_path / "cert.pem").write_bytes(issued.cert_pem())
    (tmp_path / "fullchain.pem").write_bytes(issued.cert_pem())
    (tmp_path / "key.pem").write_bytes(issued.key_pem())
    assert "cert-without-chain" not in ids(check_files(tmp_path / "cert.pem",
                                                       tmp_path / "key.pem", uid=None))


@pytest.mark.parametrize("symptom", ACME_SYMPTOMS, ids=lambda s: s.id)
def test_certbot_and_probe_lines_are_diagnosed_as_their_acme_symptom(symptom):
    assert [s.id for _, s in diagnose(symptom.example)] == [symptom.id]


def test_every_acme_symptom_has_its_heading_on_the_acme_page():
    page = (ROOT / "docs" / ACME_PAGE).read_text()
    anchors = {slugify(h.replace("`", ""), "-") for h in re.findall(r"^#+ (.+)$", page, re.M)}
    assert [s.section for s in ACME_SYMPTOMS if s.section not in anchors] == []
