"""The `runbook` click group. Each command lives in a module of runbook.cli that
adds it to the group when imported, and the group imports that module only
when the command is asked for: `runbook check` loads check's code, not that
of the eight other commands (help and completion list them all)."""

from __future__ import annotations

import importlib

import click

from runbook import __version__

# command name -> the module that defines it
COMMAND_MODULES = {
    "certs": "runbook.cli.certs",
    "check": "runbook.cli.check",
    "deploy-hook": "runbook.cli.deploy_hook",
    "doctor": "runbook.cli.doctor",
    "grade": "runbook.cli.grade",
    "install": "runbook.cli.install",
    "probe": "runbook.cli.probe",
    "telegraf-config": "runbook.cli.telegraf_config",
    "wait": "runbook.cli.wait",
}


class LazyGroup(click.Group):
    """A group whose commands' modules are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMAND_MODULES})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            importlib.import_module(COMMAND_MODULES[cmd_name])
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="runbook")
def cli() -> None:
    """Helpers for enabling TLS on InfluxDB v2: certificates, checks, probes."""
