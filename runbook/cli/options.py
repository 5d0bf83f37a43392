"""What several commands share: option types, --user, printing a result, exit codes."""

from __future__ import annotations

import math
import sys
from typing import Any, NoReturn

import click

from runbook.checks.findings import Finding, Findings, has_errors
from runbook.errors import EXIT_FAILED, EXIT_OK
from runbook.render import Progress, Renders, render

MAX_UID = 2**32 - 2


class Seconds(click.FloatRange):
    """A FloatRange that also refuses nan and inf: nan passes every comparison
    (so every range), and neither ends a wait."""

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number of seconds", param, ctx)
        return number


__all__ = ["Progress", "Seconds", "exit_for", "print_findings", "progress", "resolve_user",
           "show"]


def progress(message: str) -> None:
    """The one channel for progress lines of long commands (demo, bench)."""
    click.echo(message)


def show(result: Renders, as_json: bool = False) -> None:
    """Print `result` as text, or as JSON with --json."""
    click.echo(render(result, as_json))


def print_findings(findings: list[Finding], as_json: bool,
                   extra: dict[str, object] | None = None) -> None:
    show(Findings(findings, extra or {}), as_json)


def exit_for(findings: list[Finding]) -> NoReturn:
    sys.exit(EXIT_FAILED if has_errors(findings) else EXIT_OK)


def resolve_user(value: str | None) -> tuple[int | None, str]:
    """(uid or None, how it was chosen) for --user: a uid, a user name, 'none', or unset."""
    import pwd

    from runbook.facts import INFLUXDB_UID, INFLUXDB_USER

    if value is None:
        try:
            uid = pwd.getpwnam(INFLUXDB_USER).pw_uid
            return uid, f"uid {uid}, user {INFLUXDB_USER} on this host"
        except KeyError:
            return INFLUXDB_UID, (f"uid {INFLUXDB_UID}, user {INFLUXDB_USER} of the official "
                                  f"image (no user {INFLUXDB_USER} on this host)")
    if value.lower() == "none":
        return None, "no user (--user none)"
    if value.isascii() and value.isdigit():
        uid = int(value)
        if uid > MAX_UID:
            raise click.BadParameter(f"uid {value} is out of range (0 to {MAX_UID})",
                                     param_hint="--user")
        return uid, f"uid {uid}"
    try:
        uid = pwd.getpwnam(value).pw_uid
        return uid, f"uid {uid}, user {value}"
    except (KeyError, ValueError):
        raise click.BadParameter(f"no user {value!r} on this host; give a uid (1000 in the "
                                 "official image) or 'none'", param_hint="--user") from None
