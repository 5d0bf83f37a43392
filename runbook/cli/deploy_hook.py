"""`runbook deploy-hook`: certbot's --deploy-hook for influxd (runbook/deploy_hook.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from runbook.cli.group import cli
from runbook.cli.install import echo_result, plan_fields, target_options
from runbook.errors import UsageError


@cli.command("deploy-hook")
@click.option("--lineage", type=click.Path(file_okay=False, path_type=Path),
              help="certbot's live/NAME folder. Default: $RENEWED_LINEAGE, which certbot "
                   "sets for a deploy hook.")
@target_options
def deploy_hook(lineage: Path | None, **target: Any) -> None:
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
    plan = HookPlan(lineage=lineage, **plan_fields(**target))
    validate(plan)  # before RENEWED_LINEAGE's files are even read
    echo_result(deploy(plan), plan.url, plan.host, as_json=False)
