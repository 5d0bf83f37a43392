"""What a user of any click CLI expects: -h, and completion for bash, zsh and fish."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def runbook(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runbook", *args], capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, **env}, timeout=60)


@pytest.mark.parametrize("args", [(), ("certs",), ("check",)])
def test_dash_h_is_the_help(args):
    short, long = runbook(*args, "-h"), runbook(*args, "--help")
    assert short.returncode == long.returncode == 0
    assert short.stdout == long.stdout
    assert short.stdout.startswith("Usage: runbook")


@pytest.mark.parametrize("shell, marker", [
    ("bash", "complete -o nosort -F _runbook_completion runbook"),
    ("zsh", "#compdef runbook"),
    ("fish", "complete --no-files --command runbook"),
])
def test_each_shell_gets_its_completion_script(shell, marker):
    done = runbook(_RUNBOOK_COMPLETE=f"{shell}_source")
    assert done.returncode == 0, done.stderr
    assert marker in done.stdout


def test_bash_completes_a_command_name():
    done = runbook(_RUNBOOK_COMPLETE="bash_complete", COMP_WORDS="runbook ce", COMP_CWORD="1")
    assert done.returncode == 0
    assert "plain,certs" in done.stdout.splitlines()


def test_a_bad_completion_request_is_a_named_usage_error():
    done = runbook(_RUNBOOK_COMPLETE="tcsh_source")
    assert done.returncode == 2
    assert done.stderr.startswith("ERROR: _RUNBOOK_COMPLETE='tcsh_source' is not a completion")
    assert "bash_source" in done.stderr
