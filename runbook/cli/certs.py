"""`runbook certs self-signed | ca | issue`: certificates a local operator needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from runbook.cli.group import cli
from runbook.cli.options import show
from runbook.errors import RefusingToOverwrite, RunbookError, UsageError


@cli.group()
def certs() -> None:
    """Create certificates: self-signed, a local CA, and leaves it signs."""


def _check_stem(name: str) -> str:
    if not name or name in (".", "..") or "/" in name or len(name) > 200:
        raise UsageError(f"--name {name[:80]!r} is not a file stem",
                         fix="give a plain name such as server (files NAME.crt, NAME.key)")
    return name


def _cert_options(f: Callable[..., Any]) -> Callable[..., Any]:
    from runbook.tls.cert_choices import DEFAULT_KEY_TYPE, DEFAULT_LEAF_DAYS, KEY_TYPES, MAX_DAYS

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


@dataclass(frozen=True)
class Written:
    """A certificate and key this command wrote, and the command to run next."""

    what: str
    cert_path: Path
    key_path: Path
    sans: list[str]
    not_after: str  # YYYY-MM-DD, UTC
    next_command: str

    def text(self) -> str:
        lines = [f"Created {self.what}:", f"  certificate  {self.cert_path}  (0644)",
                 f"  private key  {self.key_path}  (0600)"]
        if self.sans:
            lines.append(f"  names        {', '.join(self.sans)}")
        lines += [f"  expires      {self.not_after} (UTC)", f"Next: {self.next_command}"]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, object]:
        return {"what": self.what, "certificate": str(self.cert_path),
                "private_key": str(self.key_path), "names": self.sans,
                "not_after": self.not_after, "next": self.next_command}


@dataclass(frozen=True)
class CAWritten:
    """A local CA this command wrote, or found and kept."""

    cert_path: Path
    key_path: Path
    kept: bool = False  # an existing, usable CA was left as it was

    def text(self) -> str:
        if self.kept:
            return f"CA already exists: {self.cert_path} (kept; --force to replace)"
        return "\n".join([
            "Created a local CA:", f"  certificate  {self.cert_path}  (give this to clients)",
            f"  private key  {self.key_path}  (0600; keep it off servers)",
            f"Next: runbook certs issue --ca-cert {self.cert_path} --ca-key {self.key_path} "
            "--san localhost"])

    def as_dict(self) -> dict[str, object]:
        return {"what": "a local CA", "certificate": str(self.cert_path),
                "private_key": str(self.key_path), "kept": self.kept}


def _sans_or_default(sans: tuple[str, ...]) -> list[str]:
    from runbook.tls.names import LOCAL_SANS

    return list(sans) or list(LOCAL_SANS)


@certs.command("self-signed")
@_cert_options
def certs_self_signed(out_dir: Path, name: str, sans: tuple[str, ...], days: int, key_type: str,
                      force: bool) -> None:
    """A self-signed server certificate (encryption without verifiable identity)."""
    from runbook.tls.certs import self_signed

    _check_stem(name)
    issued = self_signed(_sans_or_default(sans), days=days, key_type=key_type)
    c, k = issued.write(out_dir / f"{name}.crt", out_dir / f"{name}.key", overwrite=force)
    show(Written("a self-signed certificate", c, k, issued.sans, f"{issued.not_after:%Y-%m-%d}",
                 f"runbook check --cert {c} --key {k} --host {issued.sans[0]}"))


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
    from runbook.tls.certs import CA

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
        show(CAWritten(cert_path, key_path, kept=True))
        return
    ca = CA.create(common_name, key_type=key_type, days=days)
    c, k = ca.write(cert_path, key_path, overwrite=force)
    show(CAWritten(c, k))


@certs.command("issue")
@_cert_options
@click.option("--ca-cert", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--ca-key", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--wildcard", metavar="DOMAIN", help="Issue *.DOMAIN (plus DOMAIN) instead.")
def certs_issue(out_dir: Path, name: str, sans: tuple[str, ...], days: int, key_type: str,
                force: bool, ca_cert: Path, ca_key: Path, wildcard: str | None) -> None:
    """A server certificate signed by a CA made with `runbook certs ca`."""
    from runbook.tls.certs import CA

    _check_stem(name)
    ca = CA.load(ca_cert, ca_key)
    names = ([f"*.{wildcard}", wildcard, *sans] if wildcard is not None
             else _sans_or_default(sans))
    issued = ca.issue(names, days=days, key_type=key_type)
    c, k = issued.write(out_dir / f"{name}.crt", out_dir / f"{name}.key", overwrite=force)
    show(Written(f"a certificate signed by {ca_cert}", c, k, issued.sans,
                 f"{issued.not_after:%Y-%m-%d}",
                 f"runbook check --cert {c} --key {k} --ca {ca_cert} "
                 f"--host {issued.sans[0].replace('*', 'influxdb')}"))
