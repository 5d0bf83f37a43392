"""The `runbook` click group; each module of runbook.cli adds its commands to it."""

from __future__ import annotations

import click

from runbook import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="runbook")
def cli() -> None:
    """Helpers for enabling TLS on InfluxDB v2: certificates, checks, probes."""
