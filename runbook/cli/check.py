"""`runbook check`: pre-flight findings for a certificate/key pair."""

from __future__ import annotations

from pathlib import Path

import click

from runbook.cli.group import cli
from runbook.cli.options import exit_for, print_findings, resolve_user


@cli.command()
@click.option("--cert", "cert_path", type=click.Path(path_type=Path), required=True)
@click.option("--key", "key_path", type=click.Path(path_type=Path), required=True)
@click.option("--host", help="Name clients connect to; checked against the SANs.")
@click.option("--ca", "ca_path", type=click.Path(path_type=Path),
              help="CA file clients trust; the chain is checked against it.")
@click.option("--user", "user", default=None,
              help="User (uid or name) that runs influxd; 'none' skips the check. Default: "
                   "the influxdb user of this host if it has one, else uid 1000 (the official "
                   "image's); the one used is named on standard error.")
@click.option("--warn-days", type=click.IntRange(0, 36500), default=30, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def check(cert_path: Path, key_path: Path, host: str | None, ca_path: Path | None,
          user: str | None, warn_days: int, as_json: bool) -> None:
    """Pre-flight findings for a certificate/key pair before influxd reads it."""
    from runbook.checks.preflight import check_files

    uid, chosen = resolve_user(user)
    findings = check_files(cert_path, key_path, host=host, ca_path=ca_path, uid=uid,
                           warn_days=warn_days)
    print_findings(findings, as_json, {"user": {"uid": uid, "chosen": chosen}})
    if user is None and not as_json:
        click.echo(f"(readability checked for {chosen}; --user to change)", err=True)
    exit_for(findings)
