"""A certbot deploy hook for influxd: gate, install, restart, verify, roll back.

influxd reads its certificate only at start, certbot's files are root-only
symlinks, and a renewal knows nothing of influxd. After each issuance or
renewal (certbot sets RENEWED_LINEAGE to /etc/letsencrypt/live/NAME):

1. stage fullchain.pem and privkey.pem beside the site's pair (key 0600 and
   owned by influxd's user from its first byte);
2. gate them with the checks of `runbook check` (pair, chain against the
   trust store, name, readability by influxd's user): any error refuses the
   pair before the one in service is touched;
3. keep the pair in service under previous/ (only if influxd's user could
   load it: a rollback must never restore a pair influxd cannot load),
   rename the new one into place;
4. restart influxd and poll, over a verified handshake for the name, until
   it serves the new serial;
5. if 4 fails: put the previous pair back, restart, and check that the old
   serial is served again.
"""

from __future__ import annotations

import os
import shlex
import shutil
import ssl
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from runbook.certs import not_after
from runbook.checks import check_files
from runbook.errors import RunbookError, UsageError, WaitTimeout
from runbook.files import PEM_LIMIT, read_input, write_together
from runbook.findings import Finding, has_errors
from runbook.pem import key_in_certificate, load_certificates, private_key_labels, serial_hex
from runbook.probe import served_leaf
from runbook.wait import poll_until

DEFAULT_DEST = Path("/etc/ssl/influxdb")
DEFAULT_RESTART = "systemctl restart influxdb"
DEFAULT_URL = "https://localhost:8086"
CERT_NAME, KEY_NAME, PREVIOUS = "server.crt", "server.key", "previous"


class HookRefused(RunbookError):
    """The new pair failed the gate; nothing was installed."""


class HookRolledBack(RunbookError):
    """The new pair was installed but not served; the previous one is back."""


class RollbackFailed(RunbookError):
    """Neither the new pair nor the previous one is served."""


@dataclass
class HookPlan:
    lineage: Path              # certbot's live/NAME folder
    host: str                  # the name clients connect to and verify
    owner: tuple[int, int]     # influxd's uid and gid
    dest: Path = DEFAULT_DEST
    url: str = DEFAULT_URL     # where influxd answers; verified as `host`
    restart: list[str] = field(default_factory=lambda: shlex.split(DEFAULT_RESTART))
    ca_file: str | None = None  # trust for the gate and the handshake; None: system store
    restart_timeout: float = 60.0
    verify_timeout: float = 20.0


@dataclass
class HookResult:
    serial: str
    not_after: str
    previous_serial: str | None
    findings: list[Finding]


def _serial(cert_path: Path) -> str:
    return serial_hex(load_certificates(cert_path)[0].serial_number)


def _system_bundle() -> str:
    """The system trust store as one file (for the gate's chain check)."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and os.path.isfile(candidate):
            return candidate
    raise UsageError("no system CA bundle found to check the chain against",
                     fix="pass --ca with the CA file your clients trust")


def _stage(plan: HookPlan) -> Path:
    """The new pair in a staging folder beside the site's pair (same file system)."""
    chain = read_input(plan.lineage / "fullchain.pem", "certificate chain", limit=PEM_LIMIT)
    key = read_input(plan.lineage / "privkey.pem", "private key", limit=PEM_LIMIT)
    labels = private_key_labels(chain)
    if labels:  # never written, not even to staging: the chain is installed 0644
        err = key_in_certificate(plan.lineage / "fullchain.pem", labels)
        raise HookRefused(f"refused the new pair from {plan.lineage}: [cert-holds-private-key] "
                          f"{err.message}. The served certificate is untouched",
                          fix=err.fix, findings=["cert-holds-private-key"])
    staging = Path(tempfile.mkdtemp(prefix=".new-", dir=plan.dest))
    try:
        staging.chmod(0o755)  # influxd's user must enter it for the readability gate
        write_together([(staging / KEY_NAME, key, 0o600), (staging / CERT_NAME, chain, 0o644)],
                       overwrite=False, owners={staging / KEY_NAME: plan.owner})
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _loadable(plan: HookPlan, folder: Path) -> bool:
    """Whether influxd's user could load the pair in `folder` (a pair, not
    encrypted, readable): what a rollback needs. Not trust or names: the pair
    in service may be configure.md's self-signed one, and still worth keeping."""
    try:
        findings = check_files(folder / CERT_NAME, folder / KEY_NAME, uid=plan.owner[0])
    except RunbookError:
        return False
    return not has_errors(findings)


def _gate(plan: HookPlan, staging: Path) -> list[Finding]:
    findings = check_files(staging / CERT_NAME, staging / KEY_NAME, host=plan.host,
                           ca_path=plan.ca_file or _system_bundle(), uid=plan.owner[0])
    if has_errors(findings):
        named = "; ".join(f"[{f.id}] {f.message}" for f in findings if f.severity == "error")
        raise HookRefused(f"refused the new pair from {plan.lineage}: {named}. The served "
                          "certificate is untouched",
                          fix="fix the pair certbot gave (or the options: --host, --ca, "
                              "--user) and run certbot renew --force-renewal again",
                          findings=[f.id for f in findings if f.severity == "error"])
    return findings


def _swap_in(plan: HookPlan, staging: Path) -> str | None:
    """Copy the pair in service to previous/ if influxd could load it, rename
    the staged one into place; the previous serial, or None when none was kept."""
    cert, key = plan.dest / CERT_NAME, plan.dest / KEY_NAME
    keep = plan.dest / PREVIOUS
    previous_serial = None
    shutil.rmtree(keep, ignore_errors=True)  # an older run's pair is no fallback now
    if cert.exists() and key.exists() and _loadable(plan, plan.dest):
        keep.mkdir(mode=0o755, exist_ok=True)
        files, owners = [], {}
        for name in (KEY_NAME, CERT_NAME):
            st = (plan.dest / name).stat()
            files.append((keep / name, (plan.dest / name).read_bytes(), st.st_mode & 0o777))
            owners[keep / name] = (st.st_uid, st.st_gid)
        write_together(files, overwrite=True, owners=owners)
        previous_serial = _serial(cert)
    os.replace(staging / KEY_NAME, key)
    os.replace(staging / CERT_NAME, cert)
    return previous_serial


def _restart_and_verify(plan: HookPlan, want: str) -> str | None:
    """None when influxd restarted and serves serial `want`; else why not."""
    try:
        proc = subprocess.run(plan.restart, capture_output=True, text=True,  # noqa: S603 - the operator's own command
                              timeout=plan.restart_timeout, check=False)
    except subprocess.TimeoutExpired:
        return (f"`{shlex.join(plan.restart)}` did not return within "
                f"{plan.restart_timeout:g}s (influxd did not come up)")
    except OSError as exc:
        return f"`{shlex.join(plan.restart)}` could not run: {exc.strerror or exc}"
    if proc.returncode != 0:
        said = (proc.stderr or proc.stdout).strip().splitlines()
        return (f"`{shlex.join(plan.restart)}` exited {proc.returncode}"
                + (f": {said[-1]}" if said else ""))

    def served() -> str:
        der = served_leaf(plan.url, ca_file=plan.ca_file, server_name=plan.host)
        return serial_hex(x509.load_der_x509_certificate(der).serial_number)

    try:
        poll_until(lambda: served() == want, what=f"{plan.url} to serve serial {want}",
                   timeout=plan.verify_timeout)
    except WaitTimeout as exc:
        return exc.message.splitlines()[0]
    return None


def _roll_back(plan: HookPlan, new_serial: str, previous: str | None, why: str) -> None:
    if previous is None:
        raise RollbackFailed(f"the new certificate (serial {new_serial}) is not served: {why}; "
                             "there was no previous pair (none influxd could load) to put back",
                             fix="fix the cause above, then restart influxd")
    keep = plan.dest / PREVIOUS
    os.replace(keep / KEY_NAME, plan.dest / KEY_NAME)
    os.replace(keep / CERT_NAME, plan.dest / CERT_NAME)
    again = _restart_and_verify(plan, previous)
    if again is not None:
        raise RollbackFailed(f"the new certificate (serial {new_serial}) is not served: {why}; "
                             f"the previous one (serial {previous}) is back on disk but not "
                             f"served either: {again}",
                             fix="influxd is down or serves neither: read its log "
                                 "(journalctl -u influxdb, docker logs influxdb, or its log "
                                 "file) and start it")
    raise HookRolledBack(f"the new certificate (serial {new_serial}) is not served: {why}; "
                         f"the previous one (serial {previous}) is served again",
                         fix="fix the cause above, then run certbot renew --force-renewal")


def deploy(plan: HookPlan) -> HookResult:
    """Steps 1 to 5 of the module docstring; raises HookRefused, HookRolledBack or
    RollbackFailed, each saying what is served now."""
    if not plan.dest.is_dir():
        raise UsageError(f"certificate folder {plan.dest} does not exist",
                         fix=f"create it (mkdir -p {plan.dest}) or pass --dest")
    staging = _stage(plan)
    try:
        findings = _gate(plan, staging)
        new_serial = _serial(staging / CERT_NAME)
        expires = not_after(load_certificates(staging / CERT_NAME)[0]).isoformat()
        previous = _swap_in(plan, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    why = _restart_and_verify(plan, new_serial)
    if why is not None:
        _roll_back(plan, new_serial, previous, why)
    return HookResult(new_serial, expires, previous, findings)
