"""The CLI's install block as the published site shows it: copied from the
built HTML, it installs the site's file, and refuses a corrupted one.

The site is built with a real-looking address (RUNBOOK_SITE_URL); only that
address's host part is mapped, to the built site mounted in a container of
the runbook image (Debian 12, the oldest release the pages run on)."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lab.server import OWNER_LABEL
from tests.test_site import mkdocs_build

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
SITE_URL = "https://runbook.example.test/docs/"


@pytest.fixture(scope="module")
def published(tmp_path_factory, monkeypatch_module) -> Path:
    site = tmp_path_factory.mktemp("published")
    monkeypatch_module.setenv("RUNBOOK_SITE_URL", SITE_URL)
    proc = mkdocs_build(ROOT, site)
    assert proc.returncode == 0, proc.stderr
    return site


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def install_block(site: Path) -> str:
    """The code block of configure.md's built page that downloads the CLI,
    as a reader's copy button gives it."""
    page = (site / "configure" / "index.html").read_text()
    blocks = [html.unescape(re.sub(r"<[^>]+>", "", b))
              for b in re.findall(r"<code>(.*?)</code>", page, re.S)]
    found = [b for b in blocks if "downloads/runbook.pyz" in b and "sha256sum" in b]
    assert len(found) == 1, found
    return found[0]


def run_block(image: str, site: Path, block: str) -> tuple[int, str]:
    """The block in a new container, typed into bash as a reader pastes it
    (no -e), the site's host part mapped to the mounted site; then the
    SHA-256 of whatever /usr/local/bin/runbook is."""
    script = block.replace(SITE_URL, "file:///site/") + \
        '\necho "installed: $(sha256sum < /usr/local/bin/runbook | cut -c1-64)"\n'
    proc = subprocess.run(["docker", "run", "--rm", "--label", f"{OWNER_LABEL}=pytest",
                           "-v", f"{site}:/site:ro", "--entrypoint", "bash", image, "-c", script],
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr


def test_the_published_block_shows_the_sites_address_and_the_files_hash(published):
    import hashlib

    block = install_block(published)
    digest = hashlib.sha256((published / "downloads" / "runbook.pyz").read_bytes()).hexdigest()
    assert f"{SITE_URL}downloads/runbook.pyz" in block
    assert f'echo "{digest}  runbook.pyz" | sha256sum --check' in block
    assert "RUNBOOK_SITE" not in block and "RUNBOOK_PYZ_SHA256" not in block


def test_the_block_copied_from_the_site_installs_the_published_file(published, runbook_image):
    import hashlib

    rc, out = run_block(runbook_image, published, install_block(published))
    digest = hashlib.sha256((published / "downloads" / "runbook.pyz").read_bytes()).hexdigest()
    assert rc == 0, out
    assert "runbook.pyz: OK" in out and "runbook, version 0.1.0" in out, out
    assert f"installed: {digest}" in out


def test_a_corrupted_download_is_refused_and_nothing_is_installed(published, runbook_image,
                                                                   tmp_path):
    site = tmp_path / "site"
    shutil.copytree(published, site)
    with (site / "downloads" / "runbook.pyz").open("ab") as f:
        f.write(b"\0")  # one byte more, as a truncated or tampered transfer differs
    before = subprocess.run(["docker", "run", "--rm", "--entrypoint", "sha256sum",
                             runbook_image, "/usr/local/bin/runbook"],
                            capture_output=True, text=True, check=True).stdout[:64]
    _, out = run_block(runbook_image, site, install_block(published))
    assert "runbook.pyz: FAILED" in out, out
    assert f"installed: {before}" in out  # the image's own file, untouched
