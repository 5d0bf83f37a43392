"""MkDocs hook: publish the runbook CLI as downloads/runbook.pyz with the site.

The pages install the CLI from there (configure.md, cli.md); the file is
built from this checkout's runbook package at every site build, so the
published CLI is the one the published pages were tested with.
"""

from __future__ import annotations

from pathlib import Path

from build_pyz import build  # scripts/: MkDocs puts a hook's folder on sys.path


def on_post_build(config, **_) -> None:
    build(Path(config.site_dir) / "downloads" / "runbook.pyz")
