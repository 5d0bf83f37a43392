"""The `runbook` command. Reports results, not steps; errors are one line.

Exit codes: 0 fine, 1 error-level findings (or a failed verification),
2 bad usage or unreadable input. Only RunbookError is caught: anything else
is a bug and keeps its traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from runbook import __version__
from runbook.errors import RunbookError

EXIT_FINDINGS, EXIT_USAGE = 1, 2


def fail(exc: RunbookError) -> None:
    click.echo(f"ERROR: {exc.message}", err=True)
    if exc.fix:
        click.echo(f"  fix: {exc.fix}", err=True)
    sys.exit(EXIT_USAGE)


class Group(click.Group):
    """Turns RunbookError into a one-line message and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except RunbookError as exc:
            fail(exc)


def _user(value: str) -> int | None:
    """A uid, a user name on this host, or 'none'."""
    import pwd

    if value.lower() == "none":
        return None
    if value.isdigit():
        return int(value)
    try:
        return pwd.getpwnam(value).pw_uid
    except KeyError:
        raise click.BadParameter(f"no user {value!r} on this host; give a uid (1000 in the "
                                 "official image) or 'none'", param_hint="--user") from None


@click.group(cls=Group)
@click.version_option(version=__version__, prog_name="runbook")
def cli() -> None:
    """Helpers for enabling TLS on InfluxDB v2: certificates, checks, probes."""


# --- certificates -----------------------------------------------------------

@cli.group(cls=Group)
def certs() -> None:
    """Create certificates: self-signed, a local CA, and leaves it signs."""


def _cert_options(f):
    from runbook.certs import DEFAULT_KEY_TYPE, DEFAULT_LEAF_DAYS, KEY_TYPES

    f = click.option("--force", is_flag=True, help="Replace existing files.")(f)
    f = click.option("--key-type", type=click.Choice(KEY_TYPES), default=DEFAULT_KEY_TYPE,
                     show_default=True)(f)
    f = click.option("--days", type=click.IntRange(1, 36500), default=DEFAULT_LEAF_DAYS,
                     show_default=True, help="Validity in days.")(f)
    f = click.option("--san", "sans", multiple=True,
                     help="DNS name or IP the server is reached by (repeat or comma-separate);"
                          " default: localhost, 127.0.0.1, ::1.")(f)
    f = click.option("--name", default="server", show_default=True,
                     help="File stem: NAME.crt and NAME.key.")(f)
    f = click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
                     default=Path("."), show_default=True, help="Directory to write to.")(f)
    return f


def _report_written(issued, cert_path: Path, key_path: Path, what: str) -> None:
    click.echo(f"Created {what}:")
    click.echo(f"  certificate  {cert_path}  (0644)")
    click.echo(f"  private key  {key_path}  (0600)")
    if issued.sans:
        click.echo(f"  names        {', '.join(issued.sans)}")
    click.echo(f"  expires      {issued.not_after:%Y-%m-%d} (UTC)")


def _sans_or_default(sans: tuple[str, ...]):
    from runbook.names import LOCAL_SANS

    return list(sans) or list(LOCAL_SANS)


@certs.command("self-signed")
@_cert_options
def certs_self_signed(out_dir: Path, name: str, sans, days: int, key_type: str,
                      force: bool) -> None:
    """A self-signed server certificate (encryption without verifiable identity)."""
    from runbook.certs import self_signed

    issued = self_signed(_sans_or_default(sans), days=days, key_type=key_type)
    c, k = issued.write(out_dir / f"{name}.crt", out_dir / f"{name}.key", overwrite=force)
    _report_written(issued, c, k, "a self-signed certificate")
    click.echo(f"Next: runbook check --cert {c} --key {k} --host {issued.sans[0]}")


@certs.command("ca")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True)
@click.option("--name", default="ca", show_default=True, help="File stem: NAME.crt, NAME.key.")
@click.option("--common-name", default="InfluxDB TLS runbook local CA", show_default=True)
@click.option("--days", type=click.IntRange(1, 36500), default=3650, show_default=True)
@click.option("--key-type", type=click.Choice(("rsa2048", "rsa3072", "rsa4096", "p256", "p384")),
              default="rsa2048", show_default=True)
@click.option("--force", is_flag=True, help="Replace existing files.")
def certs_ca(out_dir: Path, name: str, common_name: str, days: int, key_type: str,
             force: bool) -> None:
    """A local certificate authority, standing in for a public one."""
    from runbook.certs import CA

    cert_path, key_path = out_dir / f"{name}.crt", out_dir / f"{name}.key"
    if not force and cert_path.exists() and key_path.exists():
        click.echo(f"CA already exists: {cert_path} (kept; --force to replace)")
        return
    ca = CA.create(common_name, key_type=key_type, days=days)
    c, k = ca.write(cert_path, key_path, overwrite=force)
    click.echo(f"Created a local CA:\n  certificate  {c}  (give this to clients)\n"
               f"  private key  {k}  (0600; keep it off servers)")
    click.echo(f"Next: runbook certs issue --ca-cert {c} --ca-key {k} --san localhost")


@certs.command("issue")
@_cert_options
@click.option("--ca-cert", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--ca-key", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--wildcard", metavar="DOMAIN", help="Issue *.DOMAIN (plus DOMAIN) instead.")
def certs_issue(out_dir: Path, name: str, sans, days: int, key_type: str, force: bool,
                ca_cert: Path, ca_key: Path, wildcard: str | None) -> None:
    """A server certificate signed by a CA made with `runbook certs ca`."""
    from runbook.certs import CA

    ca = CA.load(ca_cert, ca_key)
    names = [f"*.{wildcard}", wildcard, *sans] if wildcard else _sans_or_default(sans)
    issued = ca.issue(names, days=days, key_type=key_type)
    c, k = issued.write(out_dir / f"{name}.crt", out_dir / f"{name}.key", overwrite=force)
    _report_written(issued, c, k, f"a certificate signed by {ca_cert}")
    click.echo(f"Next: runbook check --cert {c} --key {k} --ca {ca_cert} "
               f"--host {issued.sans[0].replace('*', 'influxdb')}")


# --- checks -----------------------------------------------------------------

def _print_findings(findings, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"findings": [f.as_dict() for f in findings]}, indent=2))
        return
    if not findings:
        click.echo("OK: no findings")
        return
    for f in findings:
        click.echo(f"{f.severity.upper()} [{f.id}] {f.message}")
        click.echo(f"  fix: {f.fix}")


@cli.command()
@click.option("--cert", "cert_path", type=click.Path(path_type=Path), required=True)
@click.option("--key", "key_path", type=click.Path(path_type=Path), required=True)
@click.option("--host", help="Name clients connect to; checked against the SANs.")
@click.option("--ca", "ca_path", type=click.Path(path_type=Path),
              help="CA file clients trust; the chain is checked against it.")
@click.option("--user", "uid", default="1000", show_default=True,
              help="User (uid or name) that runs influxd: 1000 in the official image, "
                   "often 'influxdb' in packages; 'none' skips the check.")
@click.option("--warn-days", type=click.IntRange(0), default=30, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def check(cert_path: Path, key_path: Path, host: str | None, ca_path: Path | None,
          uid: str, warn_days: int, as_json: bool) -> None:
    """Pre-flight findings for a certificate/key pair before influxd reads it."""
    from runbook.checks import ERROR, check_files

    findings = check_files(cert_path, key_path, host=host, ca_path=ca_path, uid=_user(uid),
                           warn_days=warn_days)
    _print_findings(findings, as_json)
    sys.exit(EXIT_FINDINGS if any(f.severity == ERROR for f in findings) else 0)


# --- probe ------------------------------------------------------------------

@cli.command()
@click.argument("url")
@click.option("--ca", "ca_file", type=click.Path(exists=True, dir_okay=False),
              help="CA file to verify against (default: the system store).")
@click.option("--server-name", help="Name to verify, if not the URL's host.")
@click.option("--ciphers", is_flag=True, help="Also list each TLS 1.2 cipher accepted.")
@click.option("--json", "as_json", is_flag=True)
def probe(url: str, ca_file: str | None, server_name: str | None, ciphers: bool,
          as_json: bool) -> None:
    """What the server at URL negotiates, accepts, refuses and proves."""
    from runbook.probe import probe as run_probe

    result = run_probe(url, ca_file=ca_file, server_name=server_name, ciphers=ciphers)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        for version, outcome in result.versions.items():
            click.echo(f"{version:8} {outcome}")
        click.echo(f"negotiated {result.negotiated_version} {result.cipher}")
        cert = result.certificate
        click.echo(f"certificate {cert.get('subject')} issued by {cert.get('issuer')}")
        click.echo(f"  names {', '.join(cert.get('sans', []))}; expires {cert.get('not_after')}")
        click.echo("verified: yes" if result.verified else f"verified: NO ({result.verify_error})")
        click.echo(f"plain HTTP refused: {'yes' if result.plain_http_refused else 'NO'}")
        if ciphers:
            click.echo("TLS 1.2 ciphers accepted: " + ", ".join(result.tls12_ciphers))
    sys.exit(0 if result.verified else EXIT_FINDINGS)


# --- telegraf ---------------------------------------------------------------

@cli.command("telegraf-config")
@click.option("--url", default="https://localhost:8086", show_default=True)
@click.option("--ca", "ca_file", help="CA file Telegraf verifies the server with.")
@click.option("--insecure-skip-verify", is_flag=True, help="Self-signed certificates only.")
@click.option("--org", default="runbook", show_default=True)
@click.option("--bucket", default="telegraf", show_default=True)
@click.option("--token-env", default="INFLUX_TOKEN", show_default=True)
@click.option("--lint", "lint_file", type=click.Path(path_type=Path),
              help="Check an existing telegraf.conf instead of writing one.")
@click.option("--json", "as_json", is_flag=True)
def telegraf_config(url: str, ca_file: str | None, insecure_skip_verify: bool, org: str,
                    bucket: str, token_env: str, lint_file: Path | None, as_json: bool) -> None:
    """Print an [[outputs.influxdb_v2]] section for HTTPS, or --lint a config."""
    from runbook.checks import ERROR
    from runbook.files import read_input
    from runbook.telegraf import lint_config, render_output

    if lint_file:
        text = read_input(lint_file, "Telegraf config").decode(errors="replace")
        findings = lint_config(text, name=str(lint_file))
        _print_findings(findings, as_json)
        sys.exit(EXIT_FINDINGS if any(f.severity == ERROR for f in findings) else 0)
    click.echo(render_output(url, org=org, bucket=bucket, token_env=token_env, ca_file=ca_file,
                             insecure_skip_verify=insecure_skip_verify), nl=False)


# --- doctor -----------------------------------------------------------------

@cli.command()
@click.option("--log", "log_file", type=click.Path(path_type=Path),
              help="influxd or client log to read (default: standard input).")
@click.option("--json", "as_json", is_flag=True)
def doctor(log_file: Path | None, as_json: bool) -> None:
    """Explain TLS errors in influxd's log or a client's output."""
    from runbook.doctor import TROUBLESHOOT_PAGE, diagnose
    from runbook.files import read_input

    text = (read_input(log_file, "log").decode(errors="replace") if log_file
            else sys.stdin.read())
    found = diagnose(text)
    if as_json:
        click.echo(json.dumps({"diagnoses": [{"line": line, **s.as_dict()}
                                             for line, s in found]}, indent=2))
    elif not found:
        click.echo("No known TLS symptom found.")
    else:
        seen = set()
        for line, s in found:
            if s.id in seen:
                continue
            seen.add(s.id)
            click.echo(f"[{s.id}] {line}")
            click.echo(f"  cause: {s.cause}")
            click.echo(f"  fix:   {s.fix}")
            click.echo(f"  see:   {TROUBLESHOOT_PAGE}#{s.section}")
    sys.exit(EXIT_FINDINGS if found else 0)


# --- demo -------------------------------------------------------------------

@cli.command()
@click.option("--state", type=click.Path(file_okay=False, path_type=Path),
              default=Path(".demo"), show_default=True,
              help="Where the CA, certificates, token and Telegraf config go.")
def demo(state: Path) -> None:
    """Start a verified TLS InfluxDB with Telegraf writing over HTTPS."""
    from runbook.demo import run

    report = run(state)
    click.echo("")
    click.echo("\n".join(report.lines()))


@cli.command()
@click.option("--rounds", type=click.IntRange(1, 50), default=5, show_default=True)
@click.option("--pings", type=click.IntRange(10, 10000), default=100, show_default=True,
              help="Requests per latency sample.")
@click.option("--json-out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("docs/assets/bench.json"), show_default=True)
@click.option("--png-out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("docs/assets/bench.png"), show_default=True)
def bench(rounds: int, pings: int, json_out: Path, png_out: Path) -> None:
    """Measure what TLS costs: HTTP vs HTTPS 1.2 vs 1.3, handshakes, queries."""
    from rich.console import Console
    from rich.table import Table

    from runbook.bench import run, save, table_rows

    console = Console()
    result = run(rounds=rounds, pings=pings, log=lambda m: console.log(m))
    save(result, json_out, png_out)
    table = Table(title="What TLS costs (median of rounds; min .. max)")
    for col in ("figure", "median", "spread"):
        table.add_column(col)
    for row in table_rows(result):
        table.add_row(*row)
    console.print(table)
    for k, v in result["headline"].items():
        console.print(f"{k}: [bold]{v:.2f}[/bold]")
    console.print(f"JSON: {json_out}   chart: {png_out}")


@cli.command()
def down() -> None:
    """Stop and remove everything `runbook demo` started."""
    from runbook.demo import down as remove

    removed = remove()
    click.echo("Removed: " + ", ".join(removed) if removed else "Nothing to remove.")


def main() -> None:
    cli(prog_name="runbook")
