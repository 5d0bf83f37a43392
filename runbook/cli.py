"""The `runbook` command. Reports results, not steps; errors are one line.

One error boundary, `main()`: every RunbookError leaves with its class's exit
code (errors.py draws the tree), click's usage errors with 2, Ctrl-C with
130, an unexpected OS error with 2 (it names a path) or 3; with `--json` the
error is a JSON object on standard output. Anything else is a bug: exit 70
and one line (RUNBOOK_DEBUG=1 shows the traceback).
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from runbook import __version__
from runbook.errors import (
    EXIT_BUG,
    EXIT_ENVIRONMENT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_USAGE,
    InputError,
    RefusingToOverwrite,
    RunbookError,
    UsageError,
)
from runbook.findings import Finding, has_errors

MAX_UID = 2**32 - 2
_NO_ARGS: type[click.ClickException] = getattr(  # click 8.2 on; older versions exit 0 with help
    click.exceptions, "NoArgsIsHelpError", type("_Never", (click.ClickException,), {}))
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
Progress = Callable[[str], None]
JSON_DIAGNOSES = 1000  # matching lines `doctor --json` reports at most


class Seconds(click.FloatRange):
    """A FloatRange that also refuses nan and inf: nan passes every comparison
    (so every range), and neither ends a wait."""

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number of seconds", param, ctx)
        return number


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is: the same clean-ups run, one line, exit 143."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


def progress(message: str) -> None:
    """The one channel for progress lines of long commands (demo, bench)."""
    click.echo(message)


# --- the error boundary -----------------------------------------------------------

def _report(kind: str, message: str, fix: str, code: int, as_json: bool,
            context: dict[str, object] | None = None, one_line: bool = True) -> NoReturn:
    if as_json:
        click.echo(json.dumps({"error": {"type": kind, "message": message, "fix": fix,
                                         "exit_code": code, **(context or {})}}, indent=2))
    else:
        text = _CONTROL.sub(lambda m: repr(m.group())[1:-1], message)
        if one_line:
            text = text.replace("\n", "\\n")
        click.echo(f"ERROR: {text}", err=True)
        if fix:
            click.echo(f"  fix: {fix}", err=True)
    sys.exit(code)


def _os_error(exc: OSError) -> tuple[str, str, int]:
    if exc.filename is not None:
        return (f"{exc.filename}: {exc.strerror or exc}", "check the path and its permissions",
                EXIT_USAGE)
    return f"{exc.strerror or exc}", "check this machine's resources (disk, files, memory)", \
        EXIT_ENVIRONMENT


def main(argv: list[str] | None = None, group: click.Group | None = None,
         prog: str = "runbook") -> NoReturn:
    """Run the CLI (or the lab's `group`); every way out goes through here with a
    documented exit code. SIGTERM ends it as Ctrl-C does (clean-ups run), not at once."""
    try:
        old = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread (a test): nothing to install
        _main(argv, group or cli, prog)
    try:
        _main(argv, group or cli, prog)
    finally:
        signal.signal(signal.SIGTERM, old)


COMPLETE_VAR = "_RUNBOOK_COMPLETE"


def _main(argv: list[str] | None, group: click.Group, prog: str) -> NoReturn:
    instruction = os.environ.get(COMPLETE_VAR)
    if instruction:  # the shell asks for its completion script or for candidates
        _complete(instruction)
    args = sys.argv[1:] if argv is None else argv
    as_json = "--json" in args
    code: Any = EXIT_OK
    try:
        # Not cli.main(): it prints a blank line on Ctrl-C and handles errors its own way.
        with group.make_context(prog, list(args)) as ctx:
            code = group.invoke(ctx)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except BrokenPipeError:  # `runbook ... | head`: the reader left; say nothing more
        # Python's own advice: point stdout at /dev/null so the exit flush is silent.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_FAILED)
    except RunbookError as exc:
        multi_line = not isinstance(exc, InputError | UsageError)
        _report(type(exc).__name__, exc.message, exc.fix, exc.exit_code, as_json,
                {k: v if isinstance(v, int | float | bool) or v is None else str(v)
                 for k, v in exc.context.items()}, one_line=not multi_line)
    except _NO_ARGS as exc:  # plain `runbook`: the help, as click shows it
        click.echo(exc.format_message(), err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        _report("UsageError", exc.format_message(), "see: runbook COMMAND --help",
                EXIT_USAGE if exc.exit_code == EXIT_USAGE else exc.exit_code or EXIT_FAILED,
                as_json)
    except Terminated:
        _report("Terminated", "terminated (SIGTERM)", "run the command again; it resumes from "
                "what is done", EXIT_TERMINATED, as_json)
    except (click.Abort, KeyboardInterrupt):
        _report("Interrupted", "interrupted", "run the command again; it resumes from what is "
                "done", EXIT_INTERRUPTED, as_json)
    except OSError as exc:
        message, fix, code = _os_error(exc)
        _report(type(exc).__name__, message, fix, code, as_json)
    except Exception as exc:  # the last line of defence: no traceback for users
        if os.environ.get("RUNBOOK_DEBUG"):
            raise
        if type(exc).__module__.split(".")[0] in ("docker", "requests", "urllib3"):
            _report("DockerError", f"the Docker engine refused: {exc}",
                    "check the engine (docker info) and the message above", EXIT_ENVIRONMENT,
                    as_json)
        _report("InternalError", f"internal error (a bug): {type(exc).__name__}: {exc}",
                "please report it with the command line; RUNBOOK_DEBUG=1 shows the traceback",
                EXIT_BUG, as_json)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def _complete(instruction: str) -> NoReturn:
    """Answer the shell: its completion script (`bash_source`) or the
    candidates for the words it passes (`bash_complete`, in COMP_WORDS and
    COMP_CWORD, which the script sets); anything else is a usage error."""
    from click.shell_completion import shell_complete

    fix = (f"eval \"$({COMPLETE_VAR}=bash_source runbook)\" (or zsh_source, fish_source) "
           "sets up completion; the shell then makes the requests itself")
    shown = repr(instruction if len(instruction) <= 40 else instruction[:40] + "...")
    try:
        code = shell_complete(cli, {}, "runbook", COMPLETE_VAR, instruction)
    except (KeyError, ValueError, IndexError):  # COMP_WORDS or COMP_CWORD missing or bad
        _report("UsageError", f"{COMPLETE_VAR}={shown} without valid COMP_WORDS and "
                "COMP_CWORD, which a shell's completion sets", fix, EXIT_USAGE, False)
    if code != 0:
        _report("UsageError", f"{COMPLETE_VAR}={shown} is not a completion request", fix,
                EXIT_USAGE, False)
    sys.exit(EXIT_OK)


def _exit_for(findings: list[Finding]) -> NoReturn:
    sys.exit(EXIT_FAILED if has_errors(findings) else EXIT_OK)


def _user(value: str | None) -> tuple[int | None, str]:
    """(uid or None, how it was chosen) for --user: a uid, a user name, 'none', or unset."""
    import pwd

    from runbook.facts import INFLUXDB_UID, INFLUXDB_USER

    if value is None:
        try:
            uid = pwd.getpwnam(INFLUXDB_USER).pw_uid
            return uid, f"uid {uid}, user {INFLUXDB_USER} on this host"
        except KeyError:
            return INFLUXDB_UID, (f"uid {INFLUXDB_UID}, user {INFLUXDB_USER} of the official "
                                  f"image (no user {INFLUXDB_USER} on this host)")
    if value.lower() == "none":
        return None, "no user (--user none)"
    if value.isascii() and value.isdigit():
        uid = int(value)
        if uid > MAX_UID:
            raise click.BadParameter(f"uid {value} is out of range (0 to {MAX_UID})",
                                     param_hint="--user")
        return uid, f"uid {uid}"
    try:
        uid = pwd.getpwnam(value).pw_uid
        return uid, f"uid {uid}, user {value}"
    except (KeyError, ValueError):
        raise click.BadParameter(f"no user {value!r} on this host; give a uid (1000 in the "
                                 "official image) or 'none'", param_hint="--user") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="runbook")
def cli() -> None:
    """Helpers for enabling TLS on InfluxDB v2: certificates, checks, probes."""


# --- certificates -----------------------------------------------------------

@cli.group()
def certs() -> None:
    """Create certificates: self-signed, a local CA, and leaves it signs."""


def _check_stem(name: str) -> str:
    if not name or name in (".", "..") or "/" in name or len(name) > 200:
        raise UsageError(f"--name {name[:80]!r} is not a file stem",
                         fix="give a plain name such as server (files NAME.crt, NAME.key)")
    return name


def _cert_options(f: Callable[..., Any]) -> Callable[..., Any]:
    from runbook.cert_choices import DEFAULT_KEY_TYPE, DEFAULT_LEAF_DAYS, KEY_TYPES, MAX_DAYS

    f = click.option("--force", is_flag=True, help="Replace existing files.")(f)
    f = click.option("--key-type", type=click.Choice(KEY_TYPES), default=DEFAULT_KEY_TYPE,
                     show_default=True)(f)
    f = click.option("--days", type=click.IntRange(1, MAX_DAYS), default=DEFAULT_LEAF_DAYS,
                     show_default=True, help="Validity in days.")(f)
    f = click.option("--san", "sans", multiple=True,
                     help="DNS name or IP the server is reached by (repeat or comma-separate);"
                          " default: localhost, 127.0.0.1, ::1.")(f)
    f = click.option("--name", default="server", show_default=True,
                     help="File stem: NAME.crt and NAME.key.")(f)
    f = click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
                     default=Path("."), show_default=True, help="Directory to write to.")(f)
    return f


def _report_written(sans: list[str], not_after: str, cert_path: Path, key_path: Path,
                    what: str) -> None:
    click.echo(f"Created {what}:")
    click.echo(f"  certificate  {cert_path}  (0644)")
    click.echo(f"  private key  {key_path}  (0600)")
    if sans:
        click.echo(f"  names        {', '.join(sans)}")
    click.echo(f"  expires      {not_after} (UTC)")


def _sans_or_default(sans: tuple[str, ...]) -> list[str]:
    from runbook.names import LOCAL_SANS

    return list(sans) or list(LOCAL_SANS)


@certs.command("self-signed")
@_cert_options
def certs_self_signed(out_dir: Path, name: str, sans: tuple[str, ...], days: int, key_type: str,
                      force: bool) -> None:
    """A self-signed server certificate (encryption without verifiable identity)."""
    from runbook.certs import self_signed

    _check_stem(name)
    issued = self_signed(_sans_or_default(sans), days=days, key_type=key_type)
    c, k = issued.write(out_dir / f"{name}.crt", out_dir / f"{name}.key", overwrite=force)
    _report_written(issued.sans, f"{issued.not_after:%Y-%m-%d}", c, k,
                    "a self-signed certificate")
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

    _check_stem(name)
    cert_path, key_path = out_dir / f"{name}.crt", out_dir / f"{name}.key"
    if not force and cert_path.is_file() and key_path.is_file():
        try:
            CA.load(cert_path, key_path)
        except RunbookError as exc:
            raise RefusingToOverwrite(f"{cert_path} already exists and is not a usable CA: "
                                      f"{exc.message}",
                                      fix="choose another --name, or pass --force to replace "
                                          "it", path=str(cert_path)) from exc
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
def certs_issue(out_dir: Path, name: str, sans: tuple[str, ...], days: int, key_type: str,
                force: bool, ca_cert: Path, ca_key: Path, wildcard: str | None) -> None:
    """A server certificate signed by a CA made with `runbook certs ca`."""
    from runbook.certs import CA

    _check_stem(name)
    ca = CA.load(ca_cert, ca_key)
    names = ([f"*.{wildcard}", wildcard, *sans] if wildcard is not None
             else _sans_or_default(sans))
    issued = ca.issue(names, days=days, key_type=key_type)
    c, k = issued.write(out_dir / f"{name}.crt", out_dir / f"{name}.key", overwrite=force)
    _report_written(issued.sans, f"{issued.not_after:%Y-%m-%d}", c, k,
                    f"a certificate signed by {ca_cert}")
    click.echo(f"Next: runbook check --cert {c} --key {k} --ca {ca_cert} "
               f"--host {issued.sans[0].replace('*', 'influxdb')}")


# --- checks -----------------------------------------------------------------

def _print_findings(findings: list[Finding], as_json: bool,
                    extra: dict[str, object] | None = None) -> None:
    if as_json:
        click.echo(json.dumps({"findings": [f.as_dict() for f in findings], **(extra or {})},
                              indent=2))
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
@click.option("--user", "user", default=None,
              help="User (uid or name) that runs influxd; 'none' skips the check. Default: "
                   "the influxdb user of this host if it has one, else uid 1000 (the official "
                   "image's); the one used is named on standard error.")
@click.option("--warn-days", type=click.IntRange(0, 36500), default=30, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def check(cert_path: Path, key_path: Path, host: str | None, ca_path: Path | None,
          user: str | None, warn_days: int, as_json: bool) -> None:
    """Pre-flight findings for a certificate/key pair before influxd reads it."""
    from runbook.checks import check_files

    uid, chosen = _user(user)
    findings = check_files(cert_path, key_path, host=host, ca_path=ca_path, uid=uid,
                           warn_days=warn_days)
    _print_findings(findings, as_json, {"user": {"uid": uid, "chosen": chosen}})
    if user is None and not as_json:
        click.echo(f"(readability checked for {chosen}; --user to change)", err=True)
    _exit_for(findings)


# --- probe ------------------------------------------------------------------

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
    from runbook.probe import probe as run_probe

    result = run_probe(url, ca_file=ca_file, server_name=server_name, ciphers=ciphers,
                       timeout=timeout, compare_files=compare_files)
    stale = bool(result.compared.get("finding"))
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        for version, outcome in result.versions.items():
            click.echo(f"{version:8} {outcome}")
        click.echo(f"negotiated {result.negotiated_version} {result.cipher}")
        cert: dict[str, Any] = result.certificate
        click.echo(f"certificate {cert.get('subject')} issued by {cert.get('issuer')}")
        click.echo(f"  names {', '.join(cert.get('sans', []))}; expires {cert.get('not_after')}")
        click.echo("verified: yes" if result.verified else f"verified: NO ({result.verify_error})")
        click.echo(f"plain HTTP refused: {'yes' if result.plain_http_refused else 'NO'}")
        if ciphers:
            click.echo("TLS 1.2 ciphers accepted: " + ", ".join(result.tls12_ciphers))
        if result.compared:
            c = result.compared
            finding: Any = c["finding"]
            if finding:
                click.echo(f"{finding['severity'].upper()} [{finding['id']}] {finding['message']}")
                click.echo(f"  fix: {finding['fix']}")
            else:
                click.echo(f"served certificate = {c['file']} (serial {c['served_serial']})")
    sys.exit(EXIT_OK if result.verified and not stale else EXIT_FAILED)


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
@click.option("--edit", "edit_file", type=click.Path(path_type=Path),
              help="Switch this telegraf.conf's one [[outputs.influxdb_v2]] to https:// and "
                   "--ca, in place (a copy of the original is kept beside it).")
@click.option("--json", "as_json", is_flag=True)
def telegraf_config(url: str, ca_file: str | None, insecure_skip_verify: bool, org: str,
                    bucket: str, token_env: str, lint_file: Path | None, edit_file: Path | None,
                    as_json: bool) -> None:
    """Print an [[outputs.influxdb_v2]] section for HTTPS, or --edit or --lint a config."""
    from runbook.files import CONFIG_LIMIT, read_input
    from runbook.telegraf import lint_config, render_output

    if edit_file:
        _edit_telegraf(edit_file, ca_file, insecure_skip_verify, lint_file, as_json)
    if lint_file:
        text = read_input(lint_file, "Telegraf config", limit=CONFIG_LIMIT)
        findings = lint_config(text.decode(errors="replace"), name=str(lint_file))
        _print_findings(findings, as_json)
        _exit_for(findings)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,200}", token_env):
        raise UsageError(f"--token-env {token_env[:80]!r} is not an environment variable name",
                         fix="e.g. --token-env INFLUX_TOKEN")
    click.echo(render_output(url, org=org, bucket=bucket, token_env=token_env, ca_file=ca_file,
                             insecure_skip_verify=insecure_skip_verify), nl=False)


def _edit_telegraf(path: Path, ca_file: str | None, insecure_skip_verify: bool,
                   lint_file: Path | None, as_json: bool) -> NoReturn:
    from runbook.telegraf_edit import edit_file

    if lint_file or insecure_skip_verify or not ca_file:
        raise UsageError("--edit needs --ca, and takes neither --lint nor --insecure-skip-verify",
                         fix="runbook telegraf-config --edit /etc/telegraf/telegraf.conf "
                             "--ca /etc/ssl/influxdb/ca.crt")
    done = edit_file(path, ca_file=ca_file)
    if as_json:
        click.echo(json.dumps({"file": str(done.path), "changes": done.changes,
                               "backup": str(done.backup) if done.backup else None}, indent=2))
    elif not done.changes:
        click.echo(f"unchanged: {done.path} already writes over https:// and trusts {ca_file}")
    else:
        click.echo(f"changed {done.path} (the original is kept as {done.backup}):")
        for change in done.changes:
            click.echo(f"  {change}")
        click.echo(f"Next: restart Telegraf, it reads {done.path} only at start")
    sys.exit(EXIT_OK)


# --- doctor -----------------------------------------------------------------

@cli.command()
@click.option("--log", "log_file", type=click.Path(path_type=Path),
              help="influxd or client log to read (default: standard input).")
@click.option("--json", "as_json", is_flag=True)
def doctor(log_file: Path | None, as_json: bool) -> None:
    """Explain TLS errors in influxd's log or a client's output."""
    from runbook.doctor import diagnose
    from runbook.files import LOG_LIMIT, read_input, read_stdin

    data = (read_input(log_file, "log", limit=LOG_LIMIT) if log_file
            else read_stdin("log", limit=LOG_LIMIT))
    text = data.decode(errors="replace")
    found = diagnose(text, limit=JSON_DIAGNOSES if as_json else None)
    if as_json:  # bounded: 16 MiB of matching lines would be hundreds of MB of JSON
        report: dict[str, object] = {"diagnoses": [{"line": line, **s.as_dict()}
                                                   for line, s in found]}
        if len(found) >= JSON_DIAGNOSES:
            report["truncated"] = (f"stopped after {JSON_DIAGNOSES} matching lines; "
                                   "the rest of the log was not read")
        click.echo(json.dumps(report, indent=2))
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
            click.echo(f"  see:   {s.page}#{s.section}")
    sys.exit(EXIT_FAILED if found else EXIT_OK)


def _load_command_modules() -> None:
    """Import runbook/commands/*.py: each registers its own commands on `cli`."""
    import importlib
    import pkgutil

    from runbook import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        importlib.import_module(f"{commands.__name__}.{info.name}")


_load_command_modules()
