"""`runbook install`: put a certificate and key in service for influxd (runbook/install.py)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from runbook.cli.group import cli
from runbook.cli.options import Seconds, print_findings, resolve_user

F = TypeVar("F", bound=Callable[..., Any])


def owner(user: str) -> tuple[int, int]:
    """uid and gid that get the key: the user's own group for a name, the same
    number for a bare uid."""
    import pwd

    uid, _ = resolve_user(user)
    if uid is None:
        raise click.BadParameter("influxd's user is needed: it owns the key",
                                 param_hint="--user")
    try:
        return uid, pwd.getpwuid(uid).pw_gid
    except KeyError:
        return uid, uid


def command(value: str | None, option: str) -> list[str] | None:
    """A command line given as one string, split as a shell would (no shell runs it)."""
    if value is None:
        return None
    try:
        argv = shlex.split(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None
    if not argv:
        raise click.BadParameter("empty", param_hint=option)
    return argv


def echo_result(result: object, url: str, host: str, as_json: bool) -> None:
    from runbook.install import InstallResult

    assert isinstance(result, InstallResult)  # noqa: S101 - for the type checker
    if as_json:
        click.echo(json.dumps({**result.as_dict(), "url": url, "host": host}, indent=2))
        return
    if result.findings:
        print_findings(result.findings, as_json=False)
    for edit in result.edits:
        click.echo(f"{edit.path}: {'; '.join(edit.changes)} (was kept as {edit.backup})")
    if not result.changed:
        click.echo(f"influxd already serves this certificate: serial {result.serial}, "
                   f"expires {result.not_after} ({url}, verified as {host}); nothing changed")
        return
    was = f", replacing serial {result.previous_serial}" if result.previous_serial else ""
    click.echo(f"influxd serves the new certificate: serial {result.serial}, expires "
               f"{result.not_after}{was} ({url}, verified as {host})")


_TARGET_OPTIONS = [
    click.option("--host", required=True,
                 help="The name clients connect to: checked against the certificate and "
                      "verified in the handshake."),
    click.option("--dest", type=click.Path(path_type=Path), default="/etc/ssl/influxdb",
                 show_default=True,
                 help="Folder influxd reads server.crt and server.key from."),
    click.option("--user", default="influxdb", show_default=True,
                 help="User (name or uid) influxd runs as: owns the key, must read the "
                      "pair."),
    click.option("--url", default="https://localhost:8086", show_default=True,
                 help="Where influxd answers; its certificate is verified for --host."),
    click.option("--ca", "ca_file", type=click.Path(dir_okay=False),
                 help="CA file clients trust. Default: the system trust store."),
    click.option("--restart-command", default="systemctl restart influxdb", show_default=True),
    click.option("--restart-timeout", type=Seconds(1, 3600), default=60.0,
                 show_default=True, help="Seconds for the restart command to return."),
    click.option("--verify-timeout", type=Seconds(0.5, 3600), default=20.0,
                 show_default=True, help="Seconds for influxd to serve the new certificate."),
]


def target_options(f: F) -> F:
    """The options of install and deploy-hook that say where influxd is and how to
    restart it; the command gets them as plan_fields(**target)."""
    for option in reversed(_TARGET_OPTIONS):
        f = option(f)
    return f


def plan_fields(host: str, dest: Path, user: str, url: str, ca_file: str | None,
                restart_command: str, restart_timeout: float,
                verify_timeout: float) -> dict[str, Any]:
    return {"host": host, "owner": owner(user), "dest": dest, "url": url,
            "restart": command(restart_command, "--restart-command") or [],
            "ca_file": ca_file, "restart_timeout": restart_timeout,
            "verify_timeout": verify_timeout}


@cli.command("install")
@click.option("--cert", "cert", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The new certificate (PEM, the chain after the leaf).")
@click.option("--key", "key", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Its private key (PEM, not encrypted).")
@target_options
@click.option("--influxd-config", type=click.Path(dir_okay=False, path_type=Path),
              help="influxd's config.toml: tls-cert and tls-key set to DEST's pair (a "
                   "backup kept beside it, put back on a rollback).")
@click.option("--tls-min-version", type=click.Choice(["1.2", "1.3"]),
              help="tls-min-version for --influxd-config.")
@click.option("--telegraf-config", type=click.Path(dir_okay=False, path_type=Path),
              help="Telegraf's file: its [[outputs.influxdb_v2]] moves to HTTPS once "
                   "influxd serves the new pair (a backup kept beside it).")
@click.option("--telegraf-ca", type=click.Path(dir_okay=False),
              help="tls_ca for Telegraf's output (needed with --telegraf-config).")
@click.option("--telegraf-url", help="Telegraf's urls = [this]. Default: http:// becomes "
                                     "https://.")
@click.option("--telegraf-stop", help="Command that stops Telegraf before influxd's restart "
                                      "(it flushes over the old URL).")
@click.option("--telegraf-restart", help="Command that restarts Telegraf once its file "
                                         "changed or it was stopped.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def install_command(cert: Path, key: Path, influxd_config: Path | None,
                    tls_min_version: str | None, telegraf_config: Path | None,
                    telegraf_ca: str | None, telegraf_url: str | None,
                    telegraf_stop: str | None, telegraf_restart: str | None,
                    as_json: bool, **target: Any) -> None:
    """Put a certificate and key in service for influxd: check them, install them
    with influxd's owner (key 0600), restart, verify the served serial, roll back on
    failure. Run it again after any failure: it converges."""
    from runbook.install import InstallPlan, TelegrafPlan, install

    if tls_min_version and influxd_config is None:
        raise click.BadParameter("needs --influxd-config", param_hint="--tls-min-version")
    telegraf = None
    if telegraf_config is not None:
        if telegraf_ca is None:
            raise click.BadParameter("needs --telegraf-ca (the CA Telegraf verifies influxd "
                                     "with)", param_hint="--telegraf-config")
        telegraf = TelegrafPlan(telegraf_config, telegraf_ca, telegraf_url,
                                command(telegraf_stop, "--telegraf-stop"),
                                command(telegraf_restart, "--telegraf-restart"))
    elif any((telegraf_ca, telegraf_url, telegraf_stop, telegraf_restart)):
        raise click.BadParameter("the --telegraf-* options need --telegraf-config",
                                 param_hint="--telegraf-config")
    plan = InstallPlan(cert=cert, key=key, influxd_config=influxd_config,
                       min_tls=tls_min_version, telegraf=telegraf, **plan_fields(**target))
    echo_result(install(plan), plan.url, plan.host, as_json)
