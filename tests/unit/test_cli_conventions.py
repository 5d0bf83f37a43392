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


# What a careless user or a broken shell config can put in the environment.
BAD_REQUESTS = [
    ({"_RUNBOOK_COMPLETE": "tcsh_source"}, "is not a completion request"),
    ({"_RUNBOOK_COMPLETE": "source"}, "is not a completion request"),
    ({"_RUNBOOK_COMPLETE": "bash_source\n"}, "is not a completion request"),
    ({"_RUNBOOK_COMPLETE": "a" * 5000}, "is not a completion request"),
    ({"_RUNBOOK_COMPLETE": "bash_complete"}, "without valid COMP_WORDS"),
    ({"_RUNBOOK_COMPLETE": "zsh_complete"}, "without valid COMP_WORDS"),
    ({"_RUNBOOK_COMPLETE": "fish_complete"}, "without valid COMP_WORDS"),
    ({"_RUNBOOK_COMPLETE": "bash_complete", "COMP_WORDS": "runbook ce", "COMP_CWORD": "x"},
     "without valid COMP_WORDS"),
]


@pytest.mark.parametrize("env, message", BAD_REQUESTS,
                         ids=[f"{i}-{e['_RUNBOOK_COMPLETE'][:14]}"
                              for i, (e, _) in enumerate(BAD_REQUESTS)])
def test_a_bad_completion_request_is_a_named_usage_error(env, message):
    done = runbook(**env)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("ERROR: _RUNBOOK_COMPLETE="), done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert "bash_source" in done.stderr
    assert len(done.stderr) < 600  # a 5,000-character value is not echoed whole


def test_odd_words_to_complete_give_candidates_or_nothing_never_a_traceback():
    for words, cword in [("runbook", "0"), ("runbook check --cert", "2"), ("", "0"),
                         ("runbook \x00 ; rm -rf /", "1"), ("runbook " * 2000, "1999"),
                         ("runbook ce", "99")]:
        done = runbook(_RUNBOOK_COMPLETE="bash_complete", COMP_WORDS=words.replace("\x00", ""),
                       COMP_CWORD=cword)
        assert "Traceback" not in done.stderr, (words[:30], cword, done.stderr)
        assert done.returncode in (0, 2), (words[:30], cword, done.stderr)


def test_every_command_module_is_known_to_the_group_and_loads_only_when_asked():
    """The group imports a command's module on first use: each module of
    runbook.cli that defines commands is in COMMAND_MODULES under the name it
    defines, and `runbook check` imports no other command's module."""
    import pkgutil
    import subprocess
    import sys

    import runbook.cli
    from runbook.cli.group import COMMAND_MODULES

    plumbing = {"boundary", "group", "options"}
    modules = {f"runbook.cli.{m.name}" for m in pkgutil.iter_modules(runbook.cli.__path__)}
    assert set(COMMAND_MODULES.values()) == modules - {f"runbook.cli.{p}" for p in plumbing}
    code = ("import sys\nfrom runbook.cli import main\ntry:\n    main(['check', '--help'])\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in sys.modules "
            "if m.startswith('runbook.cli.')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=True).stdout.splitlines()[-1]
    assert loaded == str(sorted(["runbook.cli.boundary", "runbook.cli.check",
                                 "runbook.cli.group", "runbook.cli.options"]))
