"""cli.md's reference section is click's own help: each command's `--help`,
as the `runbook` command prints it, and every command is in it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from site_hooks import cli as hook

ROOT = Path(__file__).resolve().parents[2]
PATHS = [path for path, _ in hook.commands(__import__("runbook.cli").cli.cli)]


def test_every_command_and_subcommand_is_listed():
    names = {" ".join(p) for p in PATHS}
    assert {"runbook", "runbook certs", "runbook certs issue", "runbook check",
            "runbook deploy-hook", "runbook grade"} <= names
    assert len(names) >= 12
    # The lab's commands (demo, down, bench) are not the reader's.
    assert not {"runbook demo", "runbook down", "runbook bench"} & names


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p[1:]) or "runbook" for p in PATHS])
def test_the_page_shows_what_help_prints(path):
    done = subprocess.run([sys.executable, "-m", "runbook", *path[1:], "--help"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={**os.environ, "COLUMNS": str(hook.WIDTH)})
    assert done.returncode == 0, done.stderr
    assert hook.help_text(path) + "\n" == done.stdout


def test_the_page_has_the_marker_and_the_hook_fills_it():
    page = (ROOT / "docs" / hook.PAGE).read_text()
    assert page.count(hook.MARKER) == 1

    class Page:
        class file:  # the shape MkDocs passes
            src_path = hook.PAGE

    out = hook.on_page_markdown(page, page=Page)
    assert hook.MARKER not in out
    assert "### `runbook certs issue`" in out and "--ca-cert" in out
