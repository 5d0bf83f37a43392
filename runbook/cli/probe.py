"""`runbook probe URL`: what a server negotiates, accepts, refuses and proves."""

from __future__ import annotations

import sys

import click

from runbook.cli.group import cli
from runbook.cli.options import Seconds, show
from runbook.errors import EXIT_FAILED, EXIT_OK


@cli.command()
@click.argument("url")
@click.option("--ca", "ca_file", help="CA file to verify against (default: the system store).")
@click.option("--server-name", help="Name to verify, if not the URL's host.")
@click.option("--ciphers", is_flag=True, help="Also list each TLS 1.2 cipher accepted.")
@click.option("--timeout", type=Seconds(0.1, 600), default=5.0, show_default=True,
              help="Seconds for each network step (connect, handshake, read).")
@click.option("--compare-files", "compare_files", metavar="CERT",
              help="Also compare the served certificate with the one in CERT (renewed on "
                   "disk but not served: exit 1).")
@click.option("--json", "as_json", is_flag=True)
def probe(url: str, ca_file: str | None, server_name: str | None, ciphers: bool,
          timeout: float, compare_files: str | None, as_json: bool) -> None:
    """What the server at URL negotiates, accepts, refuses and proves."""
    from runbook.tls.probe import probe as run_probe

    result = run_probe(url, ca_file=ca_file, server_name=server_name, ciphers=ciphers,
                       timeout=timeout, compare_files=compare_files)
    show(result, as_json)
    sys.exit(EXIT_OK if result.verified and not result.stale else EXIT_FAILED)
