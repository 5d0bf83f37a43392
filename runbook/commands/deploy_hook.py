"""`runbook deploy-hook`: certbot's --deploy-hook for influxd (runbook/deploy_hook.py)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from runbook.cli import Seconds, cli
from runbook.commands.install import command, echo_result, owner
from runbook.errors import UsageError


@cli.command("deploy-hook")
@click.option("--host", required=True,
              help="The name clients connect to: checked against the certificate and "
                   "verified in the handshake.")
@click.option("--lineage", type=click.Path(file_okay=False, path_type=Path),
              help="certbot's live/NAME folder. Default: $RENEWED_LINEAGE, which certbot "
                   "sets for a deploy hook.")
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path),
              default="/etc/ssl/influxdb", show_default=True,
              help="Folder influxd reads server.crt and server.key from.")
@click.option("--user", default="influxdb", show_default=True,
              help="User (name or uid) influxd runs as: owns the key, must read the pair.")
@click.option("--url", default="https://localhost:8086", show_default=True,
              help="Where influxd answers; its certificate is verified for --host.")
@click.option("--ca", "ca_file", type=click.Path(dir_okay=False),
              help="CA file clients trust. Default: the system trust store.")
@click.option("--restart-command", default="systemctl restart influxdb", show_default=True)
@click.option("--restart-timeout", type=Seconds(1, 3600), default=60.0,
              show_default=True, help="Seconds for the restart command to return.")
@click.option("--verify-timeout", type=Seconds(0.5, 3600), default=20.0,
              show_default=True, help="Seconds for influxd to serve the new certificate.")
def deploy_hook(host: str, lineage: Path | None, dest: Path, user: str, url: str,
                ca_file: str | None, restart_command: str, restart_timeout: float,
                verify_timeout: float) -> None:
    """Give influxd the pair certbot just renewed: check it, install it with
    influxd's owner (key 0600), restart, verify the served serial, roll back
    on failure. Use as: certbot ... --deploy-hook "runbook deploy-hook --host NAME"."""
    from runbook.deploy_hook import HookPlan, deploy, validate

    if lineage is None:
        env = os.environ.get("RENEWED_LINEAGE")
        if not env:
            raise UsageError("RENEWED_LINEAGE is not set and --lineage is not given",
                             fix="run it as certbot's --deploy-hook, or pass --lineage "
                                 "/etc/letsencrypt/live/NAME")
        lineage = Path(env)
    restart = command(restart_command, "--restart-command") or []
    plan = HookPlan(lineage=lineage, host=host, owner=owner(user), dest=dest, url=url,
                    restart=restart, ca_file=ca_file, restart_timeout=restart_timeout,
                    verify_timeout=verify_timeout)
    validate(plan)  # before RENEWED_LINEAGE's files are even read
    echo_result(deploy(plan), url, host, as_json=False)
