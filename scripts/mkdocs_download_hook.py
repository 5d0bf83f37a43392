"""MkDocs hook: publish the runbook CLI as downloads/runbook.pyz with the site.

The pages install the CLI from there (configure.md, cli.md); the file is
built from this checkout's runbook package at every site build, so the
published CLI is the one the published pages were tested with.
"""

from __future__ import annotations

import sys
from pathlib import Path


def on_post_build(config, **_) -> None:
    root = Path(config.config_file_path).resolve().parent
    sys.path.insert(0, str(root / "scripts"))
    try:
        from build_pyz import build
    finally:
        sys.path.pop(0)
    build(Path(config.site_dir) / "downloads" / "runbook.pyz")
