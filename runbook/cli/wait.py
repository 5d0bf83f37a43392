"""`runbook wait URL`: return as soon as influxd answers, fail fast when waiting cannot help."""

from __future__ import annotations

import click

from runbook.cli.group import cli
from runbook.cli.options import Seconds, show


@cli.command()
@click.argument("url")
@click.option("--ca", "ca_file", help="CA file to verify against (default: the system store).")
@click.option("--insecure", is_flag=True, help="Skip verification (self-signed, not copied).")
@click.option("--timeout", type=Seconds(0.1, 3600), default=30.0, show_default=True,
              help="Seconds to wait in all.")
@click.option("--pid", type=click.IntRange(1, 4194304), metavar="PID",  # Linux PID_MAX_LIMIT
              help="The server's process: stop at once if it exits before answering.")
def wait(url: str, ca_file: str | None, insecure: bool, timeout: float,
         pid: int | None) -> None:
    """Wait until URL (e.g. https://localhost:8086/health) answers.

    Polls 20 times a second. Exit 0 once it answers; 1 at the deadline, or at
    once if the certificate does not verify, the server speaks plain HTTP, or
    the process given by --pid has exited.
    """
    from runbook.ready import wait_ready

    ready = wait_ready(url, ca_file=ca_file, insecure=insecure, timeout=timeout,
                       pid=pid)
    show(ready)
