"""`runbook grade URL --profile ...`: a live server against a Mozilla TLS profile."""

from __future__ import annotations

import sys

import click

from runbook.cli.group import cli
from runbook.cli.options import Seconds, show
from runbook.errors import EXIT_FAILED, EXIT_OK


@cli.command()
@click.argument("url")
@click.option("--profile", type=click.Choice(("modern", "intermediate", "old")),
              default="intermediate", show_default=True,
              help="Mozilla server-side TLS profile (guidelines 5.7).")
@click.option("--ca", "ca_file", help="CA file to verify against (default: the system store).")
@click.option("--timeout", type=Seconds(0.1, 600), default=5.0, show_default=True,
              help="Seconds for each network step (connect, handshake, read).")
@click.option("--budget", type=Seconds(1, 3600), default=30.0, show_default=True,
              help="Seconds for the whole grade; its handshakes run several at a time.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def grade(url: str, profile: str, ca_file: str | None, timeout: float, budget: float,
          as_json: bool) -> None:
    """Grade the TLS server at URL; each deviation names the influxd setting that fixes it.

    Exit 0: compliant; 1: deviations; 2: bad input (no TLS server there, bad option).
    """
    from runbook.tls.grade import grade as grade_of
    from runbook.tls.scan import scan

    result = grade_of(scan(url, ca_file=ca_file, timeout=timeout, budget=budget), profile)
    show(result, as_json)
    sys.exit(EXIT_OK if result.compliant else EXIT_FAILED)
