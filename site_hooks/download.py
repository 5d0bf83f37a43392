"""MkDocs hook: publish the runbook CLI as downloads/runbook.pyz with the site,
and show its real address and SHA-256 in the install blocks.

The pages install the CLI from there (configure.md, smoke.md, cli.md,
acme.md); the file is built from this checkout's runbook package at every
site build, so the published CLI is the one the published pages were tested
with. In the page sources the install block names the site as
`https://RUNBOOK_SITE/` and the file's hash as `RUNBOOK_PYZ_SHA256`; the
built page shows the site's own address (mkdocs.yml's site_url, which the
publishing workflow sets from the Pages URL) and the hash of the file it
publishes. The docs harness maps the same two placeholders to its own copy.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

from scripts.build_pyz import build

SITE_PLACEHOLDER = "https://RUNBOOK_SITE/"
SHA_PLACEHOLDER = "RUNBOOK_PYZ_SHA256"
_built: dict[str, Path | str] = {}


def on_pre_build(config, **_) -> None:
    work = Path(tempfile.mkdtemp(prefix="runbook-pyz-"))
    pyz = build(work / "runbook.pyz")
    _built.update(path=pyz, sha256=hashlib.sha256(pyz.read_bytes()).hexdigest())


def on_page_markdown(markdown: str, config, **_) -> str:
    site = config.site_url or "http://127.0.0.1:8000/"
    site = site if site.endswith("/") else site + "/"
    return markdown.replace(SITE_PLACEHOLDER, site).replace(SHA_PLACEHOLDER,
                                                            str(_built["sha256"]))


def on_post_build(config, **_) -> None:
    pyz = Path(_built["path"])
    out = Path(config.site_dir) / "downloads" / "runbook.pyz"
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(pyz, out)
    shutil.rmtree(pyz.parent, ignore_errors=True)
