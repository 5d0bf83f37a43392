"""`runbook grade URL --profile ...`: a live server against a Mozilla TLS profile."""

from __future__ import annotations

import json
import sys

import click

from runbook.cli import Seconds, cli
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
    from runbook.grade import grade as run_grade
    from runbook.grade_scan import scan
    from runbook.tls_profiles import GUIDELINES_VERSION

    result = run_grade(scan(url, ca_file=ca_file, timeout=timeout, budget=budget), profile)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        s = result.scan
        verdict = "compliant" if result.compliant else f"{len(result.deviations)} deviation(s)"
        click.echo(f"{url} against Mozilla {profile} (guidelines {GUIDELINES_VERSION}): "
                   f"{verdict}")
        click.echo(f"  versions     {', '.join(s.versions)}")
        click.echo(f"  TLS 1.2      {', '.join(s.ciphers) or '-'}")
        click.echo(f"  TLS 1.3      {', '.join(s.tls13_suites) or '-'}")
        click.echo(f"  curves       {', '.join(s.curves)}")
        if s.certificate:
            c = s.certificate
            click.echo(f"  certificate  {c.key_type} {c.curve or c.key_bits}, {c.signature}, "
                       f"{c.lifespan_days} days, "
                       f"{'verified' if s.verify_error is None else 'NOT verified'}")
        for d in result.deviations:
            click.echo(f"DEVIATION [{d.id}] {d.message}")
            click.echo(f"  setting: {d.setting}")
            click.echo(f"  fix:     {d.fix}")
        for note in result.notes:
            click.echo(f"NOTE {note}")
    sys.exit(EXIT_OK if result.compliant else EXIT_FAILED)
