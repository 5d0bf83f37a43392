"""`runbook doctor`: explain TLS errors in influxd's log or a client's output."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from runbook.cli.group import cli
from runbook.cli.options import show
from runbook.errors import EXIT_FAILED, EXIT_OK


@cli.command()
@click.option("--log", "log_file", type=click.Path(path_type=Path),
              help="influxd or client log to read (default: standard input).")
@click.option("--json", "as_json", is_flag=True)
def doctor(log_file: Path | None, as_json: bool) -> None:
    """Explain TLS errors in influxd's log or a client's output."""
    from runbook.checks.doctor import JSON_DIAGNOSES, Diagnoses, diagnose
    from runbook.files import LOG_LIMIT, read_input, read_stdin

    data = (read_input(log_file, "log", limit=LOG_LIMIT) if log_file
            else read_stdin("log", limit=LOG_LIMIT))
    text = data.decode(errors="replace")
    limit = JSON_DIAGNOSES if as_json else None
    found = diagnose(text, limit=limit)
    show(Diagnoses(found, limit), as_json)
    sys.exit(EXIT_FAILED if found else EXIT_OK)
