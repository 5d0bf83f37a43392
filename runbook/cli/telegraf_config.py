"""`runbook telegraf-config`: print an HTTPS output section, or --lint or --edit a config."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from runbook.cli.group import cli
from runbook.cli.options import exit_for, print_findings, show
from runbook.errors import EXIT_OK, UsageError

if TYPE_CHECKING:
    from runbook.telegraf_edit import FileEdit


@dataclass(frozen=True)
class Edited:
    """What --edit did to a config (runbook.telegraf_edit's result), shown."""

    done: FileEdit
    ca_file: str
    checked: bool = False  # --check: what --edit would change; nothing was written

    def text(self) -> str:
        done = self.done
        if not done.changes:
            return f"unchanged: {done.path} already writes over https:// and trusts {self.ca_file}"
        if self.checked:
            return "\n".join([f"--edit would change {done.path} (--check: nothing was written):",
                              *(f"  {change}" for change in done.changes)])
        return "\n".join([f"changed {done.path} (the original is kept as {done.backup}):",
                          *(f"  {change}" for change in done.changes),
                          f"Next: restart Telegraf, it reads {done.path} only at start"])

    def as_dict(self) -> dict[str, object]:
        return {"file": str(self.done.path), "changes": self.done.changes,
                "backup": str(self.done.backup) if self.done.backup else None,
                "written": bool(self.done.changes) and not self.checked}


@cli.command("telegraf-config")
@click.option("--url", default="https://localhost:8086", show_default=True)
@click.option("--ca", "ca_file", help="CA file Telegraf verifies the server with.")
@click.option("--insecure-skip-verify", is_flag=True, help="Self-signed certificates only.")
@click.option("--org", default="runbook", show_default=True)
@click.option("--bucket", default="telegraf", show_default=True)
@click.option("--token-env", default="INFLUX_TOKEN", show_default=True)
@click.option("--lint", "lint_file", type=click.Path(path_type=Path),
              help="Check an existing telegraf.conf instead of writing one.")
@click.option("--edit", "edit_file", type=click.Path(path_type=Path),
              help="Switch this telegraf.conf's one [[outputs.influxdb_v2]] to https:// and "
                   "--ca, in place (a copy of the original is kept beside it).")
@click.option("--check", is_flag=True,
              help="With --edit: say what it would change, or why it cannot; write nothing.")
@click.option("--json", "as_json", is_flag=True)
def telegraf_config(url: str, ca_file: str | None, insecure_skip_verify: bool, org: str,
                    bucket: str, token_env: str, lint_file: Path | None, edit_file: Path | None,
                    check: bool, as_json: bool) -> None:
    """Print an [[outputs.influxdb_v2]] section for HTTPS, or --edit or --lint a config."""
    from runbook.checks.telegraf import lint_config, render_output
    from runbook.files import CONFIG_LIMIT, read_input

    if check and not edit_file:
        raise UsageError("--check goes with --edit (it says what --edit would change)",
                         fix="runbook telegraf-config --edit /etc/telegraf/telegraf.conf "
                             "--ca /etc/ssl/influxdb/ca.crt --check")
    if edit_file:
        _edit_telegraf(edit_file, ca_file, insecure_skip_verify, lint_file, check, as_json)
    if lint_file:
        text = read_input(lint_file, "Telegraf config", limit=CONFIG_LIMIT)
        findings = lint_config(text.decode(errors="replace"), name=str(lint_file))
        print_findings(findings, as_json)
        exit_for(findings)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,200}", token_env):
        raise UsageError(f"--token-env {token_env[:80]!r} is not an environment variable name",
                         fix="e.g. --token-env INFLUX_TOKEN")
    click.echo(render_output(url, org=org, bucket=bucket, token_env=token_env, ca_file=ca_file,
                             insecure_skip_verify=insecure_skip_verify), nl=False)


def _edit_telegraf(path: Path, ca_file: str | None, insecure_skip_verify: bool,
                   lint_file: Path | None, check: bool, as_json: bool) -> NoReturn:
    from runbook.telegraf_edit import edit_file

    if lint_file or insecure_skip_verify or not ca_file:
        raise UsageError("--edit needs --ca, and takes neither --lint nor --insecure-skip-verify",
                         fix="runbook telegraf-config --edit /etc/telegraf/telegraf.conf "
                             "--ca /etc/ssl/influxdb/ca.crt")
    show(Edited(edit_file(path, ca_file=ca_file, dry_run=check), ca_file, checked=check), as_json)
    sys.exit(EXIT_OK)
