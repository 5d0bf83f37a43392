"""The one error boundary of the `runbook` command (and of `python -m lab`).

`main()`: every RunbookError leaves with its class's exit
code (errors.py draws the tree), click's usage errors with 2, Ctrl-C with
130, an unexpected OS error with 2 (it names a path) or 3; with `--json` the
error is a JSON object on standard output. Anything else is a bug: exit 70
and one line (RUNBOOK_DEBUG=1 shows the traceback).
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from typing import Any, NoReturn

import click

from runbook.cli.group import cli
from runbook.errors import (
    EXIT_BUG,
    EXIT_ENVIRONMENT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_USAGE,
    InputError,
    RunbookError,
    UsageError,
)

_NO_ARGS: type[click.ClickException] = getattr(  # click 8.2 on; older versions exit 0 with help
    click.exceptions, "NoArgsIsHelpError", type("_Never", (click.ClickException,), {}))
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is: the same clean-ups run, one line, exit 143."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


def _report(kind: str, message: str, fix: str, code: int, as_json: bool,
            context: dict[str, object] | None = None, one_line: bool = True) -> NoReturn:
    if as_json:
        click.echo(json.dumps({"error": {"type": kind, "message": message, "fix": fix,
                                         "exit_code": code, **(context or {})}}, indent=2))
    else:
        text = _CONTROL.sub(lambda m: repr(m.group())[1:-1], message)
        if one_line:
            text = text.replace("\n", "\\n")
        click.echo(f"ERROR: {text}", err=True)
        if fix:
            click.echo(f"  fix: {fix}", err=True)
    sys.exit(code)


def _os_error(exc: OSError) -> tuple[str, str, int]:
    if exc.filename is not None:
        return (f"{exc.filename}: {exc.strerror or exc}", "check the path and its permissions",
                EXIT_USAGE)
    return f"{exc.strerror or exc}", "check this machine's resources (disk, files, memory)", \
        EXIT_ENVIRONMENT


def main(argv: list[str] | None = None, group: click.Group | None = None,
         prog: str = "runbook") -> NoReturn:
    """Run the CLI (or the lab's `group`); every way out goes through here with a
    documented exit code. SIGTERM ends it as Ctrl-C does (clean-ups run), not at once."""
    try:
        old = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread (a test): nothing to install
        _main(argv, group or cli, prog)
    try:
        _main(argv, group or cli, prog)
    finally:
        signal.signal(signal.SIGTERM, old)


COMPLETE_VAR = "_RUNBOOK_COMPLETE"


def _main(argv: list[str] | None, group: click.Group, prog: str) -> NoReturn:
    instruction = os.environ.get(COMPLETE_VAR)
    if instruction:  # the shell asks for its completion script or for candidates
        _complete(instruction)
    args = sys.argv[1:] if argv is None else argv
    as_json = "--json" in args
    code: Any = EXIT_OK
    try:
        # Not cli.main(): it prints a blank line on Ctrl-C and handles errors its own way.
        with group.make_context(prog, list(args)) as ctx:
            code = group.invoke(ctx)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except BrokenPipeError:  # `runbook ... | head`: the reader left; say nothing more
        # Python's own advice: point stdout at /dev/null so the exit flush is silent.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_FAILED)
    except RunbookError as exc:
        multi_line = not isinstance(exc, InputError | UsageError)
        _report(type(exc).__name__, exc.message, exc.fix, exc.exit_code, as_json,
                {k: v if isinstance(v, int | float | bool) or v is None else str(v)
                 for k, v in exc.context.items()}, one_line=not multi_line)
    except _NO_ARGS as exc:  # plain `runbook`: the help, as click shows it
        click.echo(exc.format_message(), err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        _report("UsageError", exc.format_message(), "see: runbook COMMAND --help",
                EXIT_USAGE if exc.exit_code == EXIT_USAGE else exc.exit_code or EXIT_FAILED,
                as_json)
    except Terminated:
        _report("Terminated", "terminated (SIGTERM)", "run the command again; it resumes from "
                "what is done", EXIT_TERMINATED, as_json)
    except (click.Abort, KeyboardInterrupt):
        _report("Interrupted", "interrupted", "run the command again; it resumes from what is "
                "done", EXIT_INTERRUPTED, as_json)
    except OSError as exc:
        message, fix, code = _os_error(exc)
        _report(type(exc).__name__, message, fix, code, as_json)
    except Exception as exc:  # the last line of defence: no traceback for users
        if os.environ.get("RUNBOOK_DEBUG"):
            raise
        if type(exc).__module__.split(".")[0] in ("docker", "requests", "urllib3"):
            _report("DockerError", f"the Docker engine refused: {exc}",
                    "check the engine (docker info) and the message above", EXIT_ENVIRONMENT,
                    as_json)
        _report("InternalError", f"internal error (a bug): {type(exc).__name__}: {exc}",
                "please report it with the command line; RUNBOOK_DEBUG=1 shows the traceback",
                EXIT_BUG, as_json)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def _complete(instruction: str) -> NoReturn:
    """Answer the shell: its completion script (`bash_source`) or the
    candidates for the words it passes (`bash_complete`, in COMP_WORDS and
    COMP_CWORD, which the script sets); anything else is a usage error."""
    from click.shell_completion import shell_complete

    fix = (f"eval \"$({COMPLETE_VAR}=bash_source runbook)\" (or zsh_source, fish_source) "
           "sets up completion; the shell then makes the requests itself")
    shown = repr(instruction if len(instruction) <= 40 else instruction[:40] + "...")
    try:
        code = shell_complete(cli, {}, "runbook", COMPLETE_VAR, instruction)
    except (KeyError, ValueError, IndexError):  # COMP_WORDS or COMP_CWORD missing or bad
        _report("UsageError", f"{COMPLETE_VAR}={shown} without valid COMP_WORDS and "
                "COMP_CWORD, which a shell's completion sets", fix, EXIT_USAGE, False)
    if code != 0:
        _report("UsageError", f"{COMPLETE_VAR}={shown} is not a completion request", fix,
                EXIT_USAGE, False)
    sys.exit(EXIT_OK)
