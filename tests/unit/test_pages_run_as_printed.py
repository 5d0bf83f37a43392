"""Visible blocks run as printed on a reader's server: they name the real
internet (Let's Encrypt, the package registries), never what only the page
hosts have; the harness maps the one to the other, out of the reader's sight."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.pages import page_plan

DOCS = Path(__file__).resolve().parents[2] / "docs"
# What exists only on the page hosts: the local ACME CA and its DNS server's
# API (harness/page_setup/start-pebble.sh), this checkout's mount, the client kit.
HOST_ONLY = re.compile(r"localhost:1[45]000|localhost:8055|/opt/runbook|client-kit|pebble",
                       re.IGNORECASE)


def host_only_lines(page: Path) -> list[str]:
    _, plan = page_plan(page)
    return [f"{page.name}:{p.block.lineno}: {line.strip()}"
            for p in plan if not p.hidden
            for line in p.block.code.splitlines() if HOST_ONLY.search(line)]


def test_visible_blocks_name_nothing_only_the_page_hosts_have():
    offenders = [hit for page in sorted(DOCS.glob("*.md")) for hit in host_only_lines(page)]
    assert offenders == []


@pytest.mark.parametrize("block, caught", [
    ("certbot certonly --server https://localhost:14000/dir", True),
    ("curl -X POST http://localhost:8055/set-txt", True),
    ("/opt/runbook/harness/page_setup/start-pebble.sh", True),
    ("certbot certonly --server https://acme-v02.api.letsencrypt.org/directory", False),
    ("~/influx-client/.venv/bin/pip install influxdb-client", False),
])
def test_the_checker_catches_host_only_names(block, caught, tmp_path):
    page = tmp_path / "p.md"
    page.write_text(f"# p\n\n```bash\n{block}\n```\n\n<!--\n```bash\n{block}\n```\n-->\n")
    assert bool(host_only_lines(page)) is caught


def test_the_harness_maps_lets_encrypt_to_the_local_ca():
    from harness.plugin import PLACEHOLDERS

    acme = (DOCS / "acme.md").read_text()
    for directory in ("https://acme-staging-v02.api.letsencrypt.org/directory",
                      "https://acme-v02.api.letsencrypt.org/directory"):
        assert directory in acme
        assert PLACEHOLDERS[directory] == "https://localhost:14000/dir"


def test_hidden_blocks_may_use_what_the_hosts_have(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("# p\n\n<!--\n```bash\n"
                    "/opt/runbook/harness/page_setup/start-pebble.sh\n```\n-->\n")
    assert host_only_lines(page) == []
