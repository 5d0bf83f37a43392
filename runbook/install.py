"""Install a certificate for influxd: stage, gate, swap, restart, verify, roll back.

The one transaction behind `runbook install` (a pair given by path),
`runbook deploy-hook` (certbot's lineage) and the Ansible role (the CLI on each
host). influxd reads its certificate only at start, so a new pair is installed
whole or not at all:

1. check the options (URL, host, timeouts) and read the new pair's files before
   anything changes, and the edits of influxd's and Telegraf's configuration
   files (refused here if a file cannot take them); take the folder's lock;
2. stage the pair as a new pair folder (key 0600 and owned by influxd's user
   from its first byte) and gate it with the checks of `runbook check`: any
   error refuses the pair before the one in service is touched;
3. probe which pair influxd serves; keep that one as previous/ (only a pair
   influxd's user can load: a rollback must never restore one it cannot);
4. point the served paths at the new pair with one rename (runbook/pairs.py)
   and set tls-cert/tls-key in influxd's configuration (a backup kept beside it);
5. stop Telegraf if asked (it flushes to the old URL), restart influxd and poll,
   over a verified handshake for the name, until it serves the new certificate;
   then switch Telegraf's output to HTTPS (tomlkit, a backup kept) and restart it;
6. if 5 fails: point the served paths back at previous/ (one rename), put
   influxd's configuration back, restart, and say what a probe finds served.

Every change is one rename, so an interrupt (Ctrl-C, SIGTERM, a crash) at any
point leaves the served paths on a complete pair and the served one on disk;
running the install again converges, as it decides from what it probes.
"""

from __future__ import annotations

import http.client
import math
import os
import shlex
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from runbook.checks import check_files
from runbook.checks.findings import Finding, has_errors
from runbook.deadline import check_seconds
from runbook.errors import ProbeError, RunbookError, UsageError
from runbook.files import PEM_LIMIT, read_input, write_together
from runbook.pairs import CERT_NAME, KEY_NAME, LIVE, PREVIOUS, InstallBusy, Pair, PairStore
from runbook.telegraf_edit import FileEdit, edit_file, restore, set_keys, switch_to_https
from runbook.tls.certs import not_after
from runbook.tls.pem import key_in_certificate, load_certificates, private_key_labels, serial_hex
from runbook.tls.probe import Target, served_leaf, served_leaf_unverified

__all__ = ["CERT_NAME", "KEY_NAME", "PREVIOUS", "InstallBusy", "InstallPlan", "InstallRefused",
           "InstallResult", "InstallRolledBack", "RollbackFailed", "TelegrafPlan", "install",
           "validate"]

DEFAULT_DEST = Path("/etc/ssl/influxdb")
DEFAULT_RESTART = "systemctl restart influxdb"
DEFAULT_URL = "https://localhost:8086"
PROBE_TIMEOUT = 5.0  # seconds for the probe of what is served before and after
OUTPUT_TAIL = 4096  # bytes of the restart command's output kept for the message
POLL_S = 0.1
TLS_VERSIONS = ("1.2", "1.3")  # influxd refuses to start with anything else

# Tests interrupt the transaction at each named step (tests/unit/test_hook_interrupts.py).
CHECKPOINT: Callable[[str], None] | None = None


def _checkpoint(step: str) -> None:
    if CHECKPOINT is not None:
        CHECKPOINT(step)


class InstallRefused(RunbookError):
    """The new pair (or a configuration edit) failed the gate; nothing was installed."""


class InstallRolledBack(RunbookError):
    """The new pair was installed but not served; what was served before is back."""


class RollbackFailed(RunbookError):
    """Neither the new pair nor what was served before is served."""


@dataclass
class TelegrafPlan:
    """Telegraf on the same host: its output moves to HTTPS once influxd serves it."""

    config: Path                      # telegraf.conf with one [[outputs.influxdb_v2]]
    ca_file: str                      # its tls_ca: the CA Telegraf verifies influxd with
    url: str | None = None            # its urls = [url]; None: http:// becomes https://
    stop: list[str] | None = None     # run before influxd's restart (Telegraf flushes first)
    restart: list[str] | None = None  # run after its file changed, or after `stop`


@dataclass
class InstallPlan:
    cert: Path                 # the new certificate (chain after the leaf)
    key: Path                  # its private key
    host: str                  # the name clients connect to and verify
    owner: tuple[int, int]     # influxd's uid and gid
    dest: Path = DEFAULT_DEST
    url: str = DEFAULT_URL     # where influxd answers; verified as `host`
    restart: list[str] = field(default_factory=lambda: shlex.split(DEFAULT_RESTART))
    ca_file: str | None = None  # trust for the gate and the handshake; None: system store
    restart_timeout: float = 60.0
    verify_timeout: float = 20.0
    lock_timeout: float | None = None  # None: as long as one install can hold the lock
    influxd_config: Path | None = None  # config.toml to point at DEST's pair (tls-cert, tls-key)
    min_tls: str | None = None          # its tls-min-version, with influxd_config
    telegraf: TelegrafPlan | None = None
    source: str = ""           # where the pair comes from, for messages; default: its paths
    retry: str = "run the install again"  # what to run once a cause is fixed

    def lock_wait(self) -> float:
        if self.lock_timeout is not None:
            return self.lock_timeout
        return 2 * (self.restart_timeout + self.verify_timeout) + 2 * PROBE_TIMEOUT

    def origin(self) -> str:
        return self.source or f"{self.cert} and {self.key}"


@dataclass
class InstallResult:
    serial: str
    not_after: str
    previous_serial: str | None
    findings: list[Finding]
    changed: bool = True       # False: influxd served this pair already, no file changed
    edits: list[FileEdit] = field(default_factory=list)  # configuration files changed

    def as_dict(self) -> dict[str, object]:
        return {"changed": self.changed, "serial": self.serial, "not_after": self.not_after,
                "previous_serial": self.previous_serial,
                "findings": [f.as_dict() for f in self.findings],
                "edits": [{"file": str(e.path), "changes": e.changes,
                           "backup": str(e.backup) if e.backup else None} for e in self.edits]}


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


# --- 1. input, checked before anything changes ----------------------------------------

def validate(plan: InstallPlan) -> None:
    """UsageError for an option that cannot work: found before the swap, not after."""
    if not plan.host.strip():
        raise UsageError("--host is empty", fix="give the name clients connect to, "
                         "e.g. --host influxdb.example.test")
    Target.from_url(plan.url, plan.host)  # https, a host, a port 1-65535, valid names
    for name, value in (("--restart-timeout", plan.restart_timeout),
                        ("--verify-timeout", plan.verify_timeout)):
        check_seconds(name, value)
    if plan.lock_timeout is not None and not (math.isfinite(plan.lock_timeout)
                                              and plan.lock_timeout >= 0):
        raise UsageError(f"lock timeout {plan.lock_timeout!r} is not a number of seconds",
                         fix="give 0 or more seconds")
    if not plan.restart:
        raise UsageError("the restart command is empty", fix="e.g. systemctl restart influxdb")
    if plan.dest.exists() and not plan.dest.is_dir():
        raise UsageError(f"certificate folder {plan.dest} is not a folder",
                         fix="pass --dest with the folder influxd reads its pair from")
    if not plan.dest.is_dir():
        raise UsageError(f"certificate folder {plan.dest} does not exist",
                         fix=f"create it (mkdir -p {plan.dest}) or pass --dest")
    if plan.min_tls is not None and plan.min_tls not in TLS_VERSIONS:
        raise UsageError(f"TLS version {plan.min_tls!r} is not one influxd starts with",
                         fix="give 1.2 or 1.3")


def _read_pair(plan: InstallPlan) -> tuple[bytes, bytes]:
    chain = read_input(plan.cert, "certificate chain", limit=PEM_LIMIT)
    key = read_input(plan.key, "private key", limit=PEM_LIMIT)
    labels = private_key_labels(chain)
    if labels:  # never written, not even to staging: the chain is installed 0644
        err = key_in_certificate(plan.cert, labels)
        raise InstallRefused(f"refused the new pair from {plan.origin()}: "
                             f"[cert-holds-private-key] {err.message}. The served certificate "
                             "is untouched", fix=err.fix, findings=["cert-holds-private-key"])
    return chain, key


def _influxd_settings(plan: InstallPlan) -> dict[str, str]:
    settings = {"tls-cert": str(plan.dest / CERT_NAME), "tls-key": str(plan.dest / KEY_NAME)}
    if plan.min_tls is not None:
        settings["tls-min-version"] = plan.min_tls
    return settings


def _preflight_edits(plan: InstallPlan) -> None:
    """Each configuration file can take its edit (refused now, not after the restart)."""
    if plan.influxd_config is not None:
        text = read_input(plan.influxd_config, "influxd configuration").decode(errors="replace")
        set_keys(text, _influxd_settings(plan), name=str(plan.influxd_config))
    if plan.telegraf is not None:
        text = read_input(plan.telegraf.config, "Telegraf config").decode(errors="replace")
        switch_to_https(text, ca_file=plan.telegraf.ca_file, url=plan.telegraf.url,
                        name=str(plan.telegraf.config))


# --- 2. stage and gate -------------------------------------------------------------------

def _stage(plan: InstallPlan, store: PairStore, chain: bytes,
           key: bytes) -> tuple[Pair, list[Finding]]:
    """The new pair as a complete pair folder, if it passes the gate."""
    staging = store.staging()
    try:
        write_together([(staging / KEY_NAME, key, 0o600), (staging / CERT_NAME, chain, 0o644)],
                       overwrite=False, owners={staging / KEY_NAME: plan.owner})
        _checkpoint("staged")
        findings = _gate(plan, staging)
        pair = store.commit(staging)
    except BaseException:
        store.clean_staging()
        store.forget_empty()
        raise
    _checkpoint("committed")
    return pair, findings


def _loadable(plan: InstallPlan, pair: Pair) -> bool:
    """Whether influxd's user could load `pair` (a pair, not encrypted, readable): what a
    rollback needs. Not trust or names: the pair in service may be configure.md's
    self-signed one, and still worth keeping."""
    try:
        findings = check_files(pair.cert, pair.key, uid=plan.owner[0])
    except RunbookError:
        return False
    return not has_errors(findings)


def _gate(plan: InstallPlan, staging: Path) -> list[Finding]:
    findings = check_files(staging / CERT_NAME, staging / KEY_NAME, host=plan.host,
                           ca_path=plan.ca_file or _system_bundle(), uid=plan.owner[0])
    if has_errors(findings):
        named = "; ".join(f"[{f.id}] {f.message}" for f in findings if f.severity == "error")
        named = (named.replace(str(staging / CERT_NAME), str(plan.cert))
                 .replace(str(staging / KEY_NAME), str(plan.key))
                 .replace(str(staging), str(plan.cert.parent)))
        raise InstallRefused(f"refused the new pair from {plan.origin()}: {named}. The served "
                             "certificate is untouched",
                             fix=f"fix the pair (or the options: --host, --ca, --user) and "
                                 f"{plan.retry}",
                             findings=[f.id for f in findings if f.severity == "error"])
    return findings


# --- 3. what is served --------------------------------------------------------------------

@dataclass
class Served:
    der: bytes | None  # the leaf influxd presents; None when nothing answers
    error: str = ""   # why nothing answers
    pair: Pair | None = None  # the pair on disk that holds that leaf, if one does

    def describe(self, plan: InstallPlan) -> str:
        if self.der is None:
            return f"nothing serves TLS at {plan.url} ({self.error})"
        from cryptography import x509

        serial = serial_hex(x509.load_der_x509_certificate(self.der).serial_number)
        return f"{plan.url} serves serial {serial}"


def _probe_served(plan: InstallPlan, store: PairStore) -> Served:
    """What influxd presents now (no trust needed: the pair in service may be
    self-signed), and the loadable pair on disk that holds it."""
    try:
        der = served_leaf_unverified(plan.url, server_name=plan.host, timeout=PROBE_TIMEOUT)
    except ProbeError as exc:
        return Served(None, exc.message)
    for pair in store.known_pairs():
        if pair.leaf_der() == der and _loadable(plan, pair):
            return Served(der, pair=pair)
    return Served(der)


def _probe_settled(plan: InstallPlan, store: PairStore) -> Served:
    """What is served once a server that is still starting answers (or after
    PROBE_TIMEOUT): the last word of a failed hook is a probe, not a guess."""
    deadline = time.monotonic() + PROBE_TIMEOUT
    while True:
        served = _probe_served(plan, store)
        if served.der is not None or time.monotonic() >= deadline:
            return served
        time.sleep(POLL_S)


def _keep_as_previous(plan: InstallPlan, store: PairStore, served: Served,
                      new: Pair) -> Pair | None:
    """The rollback target: the pair that is served, never a guess. With nothing
    served that is on disk, an existing previous/ stays; else the pair the
    served paths hold, if influxd could load it."""
    if served.pair is not None and served.pair != new:
        return served.pair
    kept = store.previous()
    if kept is not None and kept != new and _loadable(plan, kept):
        return kept
    if served.pair is None:
        live = store.live()
        if live is not None and live != new and _loadable(plan, live):
            return live
    return None


# --- 5. restart and verify -------------------------------------------------------------------

def _run_restart(plan: InstallPlan) -> str | None:
    """None when the restart command exits 0 in time; else why not, from its
    standard error. Waits for the process, not for its output to close: a child it
    leaves running (influxd &) holds that output for ever. So no pipe (a full or
    closed one would block or kill that child), and standard output, where influxd
    logs, goes to /dev/null rather than into a file no one reads."""
    command = shlex.join(plan.restart)
    with tempfile.TemporaryFile() as output:
        try:
            proc = subprocess.Popen(plan.restart, stdin=subprocess.DEVNULL,  # noqa: S603 - the operator's own command
                                    stdout=subprocess.DEVNULL, stderr=output)
        except OSError as exc:
            return f"`{command}` could not run: {exc.strerror or exc}"
        try:
            code = proc.wait(timeout=plan.restart_timeout)
        except subprocess.TimeoutExpired:
            _stop(proc)
            return (f"`{command}` did not return within {plan.restart_timeout:g}s "
                    "(influxd did not come up)")
        except BaseException:  # a restart no one waits for must not race a rerun
            _stop(proc)
            raise
        if code == 0:
            return None
        output.seek(max(0, output.seek(0, os.SEEK_END) - OUTPUT_TAIL))
        said = output.read().decode(errors="replace").strip().splitlines()
        return f"`{command}` exited {code}" + (f": {said[-1]}" if said else "")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait()


def _poll(plan: InstallPlan, waiting_for: str, attempt: Callable[[float], str | None],
          ) -> str | None:
    """None once attempt(seconds left) returns None, within --verify-timeout in all;
    else the timeout, with what the last attempt saw (what it returned)."""
    deadline = time.monotonic() + plan.verify_timeout
    last = "nothing answered yet"
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return (f"timed out after {plan.verify_timeout:g}s waiting for {waiting_for}; "
                    f"last: {last}")
        seen = attempt(left)
        if seen is None:
            return None
        last = seen
        time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))


def _wait_served(plan: InstallPlan, pair: Pair, *, verified: bool) -> str | None:
    """None once `pair`'s leaf is served (over a handshake verified for --host
    when `verified`) within --verify-timeout in all; else what was served last."""
    want = pair.leaf_der()

    def attempt(left: float) -> str | None:
        _checkpoint("verifying")
        try:
            if verified:
                der = served_leaf(plan.url, ca_file=plan.ca_file, server_name=plan.host,
                                  timeout=left)
            else:
                der = served_leaf_unverified(plan.url, server_name=plan.host, timeout=left)
        except (ProbeError, RunbookError) as exc:
            return exc.message
        if der == want:
            return None
        from cryptography import x509

        return f"serial {serial_hex(x509.load_der_x509_certificate(der).serial_number)}"

    return _poll(plan, f"{plan.url} to serve serial {_serial(pair.cert)}", attempt)


def _serves_verified(plan: InstallPlan, pair: Pair) -> bool:
    """Whether influxd serves `pair`'s leaf now, over a handshake verified for --host."""
    try:
        der = served_leaf(plan.url, ca_file=plan.ca_file, server_name=plan.host,
                          timeout=PROBE_TIMEOUT)
    except (ProbeError, RunbookError):
        return False
    return der == pair.leaf_der()


def _restart_and_verify(plan: InstallPlan, pair: Pair, *, verified: bool = True) -> str | None:
    why = _run_restart(plan)
    _checkpoint("restarted")
    if why is not None:
        return why
    return _wait_served(plan, pair, verified=verified)


def _answers_http(plan: InstallPlan) -> str | None:
    """None once influxd answers plain HTTP on the URL's port (what it served before
    a first switch to HTTPS) within --verify-timeout; else why not."""
    target = Target.from_url(plan.url, plan.host)

    def attempt(left: float) -> str | None:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=min(left, 2.0))
        try:
            conn.request("GET", "/ping")
            conn.getresponse()  # any answer in plain HTTP: what was served before
            return None
        except (OSError, http.client.HTTPException) as exc:
            return str(exc) or type(exc).__name__
        finally:
            conn.close()

    return _poll(plan, f"plain HTTP on {target.host}:{target.port}", attempt)


def _run(command: list[str] | None, timeout: float) -> str | None:
    """A side command (Telegraf's stop or restart): None when it exits 0."""
    if not command:
        return None
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,  # noqa: S603 - the operator's own command
                              timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`{shlex.join(command)}` failed: {exc}"
    if done.returncode == 0:
        return None
    said = done.stderr.decode(errors="replace").strip().splitlines()
    return f"`{shlex.join(command)}` exited {done.returncode}" + (f": {said[-1]}" if said else "")


# --- 6. roll back ---------------------------------------------------------------------------

@dataclass
class _Undo:
    """What a rollback puts back, besides the served pair."""

    config: FileEdit | None = None  # influxd's configuration file, as edited
    telegraf_stopped: bool = False
    tls_before: bool = True  # whether influxd served TLS before (else plain HTTP, or down)


def _roll_back(plan: InstallPlan, store: PairStore, new: Pair, previous: Pair | None,
               undo: _Undo, why: str) -> None:
    new_serial = _serial(new.cert)
    config_back = undo.config is not None and undo.config.backup is not None
    if previous is None and not config_back:
        _restart_telegraf(plan, undo)
        now = _probe_settled(plan, store).describe(plan)
        raise RollbackFailed(f"the new certificate (serial {new_serial}) is not served: {why}; "
                             "there was no previous pair (none influxd could load) to put "
                             f"back; a probe now: {now}",
                             fix="fix the cause above, then restart influxd")
    if previous is not None:
        store.point(LIVE, previous)
    if undo.config is not None and undo.config.backup is not None:
        restore(undo.config)
    _checkpoint("rolled-back")
    if previous is not None and (undo.tls_before or not config_back):
        was, again = (f"the previous one (serial {_serial(previous.cert)})",
                      _restart_and_verify(plan, previous, verified=False))
        previous_is = "HTTPS"
    else:  # influxd's own configuration is back: it answers as it did before
        why_restart = _run_restart(plan)
        _checkpoint("restarted")
        was, again = ("influxd's previous configuration", why_restart or _answers_http(plan))
        previous_is = "HTTPS" if undo.tls_before else "HTTP"
    told = _restart_telegraf(plan, undo)
    if again is None:
        served = "served again" if previous_is == "HTTPS" and previous is not None \
            else f"back, and influxd answers {previous_is} again"
        raise InstallRolledBack(f"the new certificate (serial {new_serial}) is not served: "
                                f"{why}; {was} is {served}{told}",
                                fix=f"fix the cause above, then {plan.retry}",
                                previous=previous_is,
                                previous_serial=_serial(previous.cert) if previous else None)
    probed = _probe_settled(plan, store)
    state = ("influxd is down" if probed.der is None
             else "influxd serves the new one" if probed.pair == new
             else "influxd serves the previous one, but its restart failed"
             if previous is not None and probed.pair == previous
             else "influxd serves neither")
    raise RollbackFailed(f"the new certificate (serial {new_serial}) is not served: {why}; "
                         f"{was} is back on disk but not served either: {again}; "
                         f"a probe now: {probed.describe(plan)}{told}",
                         fix=f"{state}: read its log (journalctl -u influxdb, docker logs "
                             "influxdb, or its log file) and start it")


def _restart_telegraf(plan: InstallPlan, undo: _Undo) -> str:
    """Telegraf running again on its own (unchanged) file; '' or why it is not."""
    if plan.telegraf is None or not undo.telegraf_stopped:
        return ""
    why = _run(plan.telegraf.restart, plan.restart_timeout)
    return f"; Telegraf did not start again: {why}" if why else ""


# --- the transaction ------------------------------------------------------------------------

def install(plan: InstallPlan) -> InstallResult:
    """Steps 1 to 6 of the module docstring; raises UsageError, InputError, InstallBusy,
    InstallRefused, InstallRolledBack or RollbackFailed, each saying what is served now."""
    validate(plan)
    chain, key = _read_pair(plan)
    _preflight_edits(plan)
    store = PairStore(plan.dest)
    with store.locked(plan.lock_wait()):
        _checkpoint("locked")
        store.clean_staging()
        new, findings = _stage(plan, store, chain, key)
        store.adopt(_checkpoint)
        _checkpoint("adopted")
        served = _probe_served(plan, store)
        previous = _keep_as_previous(plan, store, served, new)
        if previous is None:
            store.unlink_previous()
        elif previous != store.previous():
            store.point(PREVIOUS, previous)
        _checkpoint("previous-kept")
        if store.live() != new:
            store.point(LIVE, new)
        _checkpoint("swapped")
        undo = _Undo(tls_before=served.der is not None)
        if plan.influxd_config is not None:
            undo.config = edit_file(plan.influxd_config, keys=_influxd_settings(plan))
        edits = [undo.config] if undo.config is not None and undo.config.changes else []
        # A rerun after the restart: already served, as clients verify it (the same
        # leaf without its chain, from a pair changed in place, needs the restart).
        unchanged = served.pair == new and not edits and _serves_verified(plan, new)
        why = None
        if not unchanged:
            if plan.telegraf is not None and plan.telegraf.stop:
                why = _run(plan.telegraf.stop, plan.restart_timeout)
                if why is not None:
                    raise _undo_before_restart(plan, store, previous, undo, why)
                undo.telegraf_stopped = True
            why = _restart_and_verify(plan, new)
        if why is None and plan.telegraf is not None:
            why = _switch_telegraf(plan, plan.telegraf, undo, edits)
        if why is not None:
            _roll_back(plan, store, new, previous, undo, why)
        store.collect_garbage()
        _checkpoint("done")
    expires = not_after(load_certificates(new.cert)[0]).isoformat()
    return InstallResult(_serial(new.cert), expires,
                         _serial(previous.cert) if previous is not None else None, findings,
                         changed=not (unchanged and not edits), edits=edits)


def _switch_telegraf(plan: InstallPlan, telegraf: TelegrafPlan, undo: _Undo,
                     edits: list[FileEdit]) -> str | None:
    """Telegraf's output on HTTPS and Telegraf (re)started; None, or why not."""
    try:
        done = edit_file(telegraf.config, ca_file=telegraf.ca_file, url=telegraf.url)
    except RunbookError as exc:
        return f"Telegraf's {telegraf.config} was not switched: {exc.message}"
    if done.changes:
        edits.append(done)
    if done.changes or undo.telegraf_stopped:
        why = _run(telegraf.restart, plan.restart_timeout)
        if why is not None:
            if done.backup is not None:
                restore(done)
                edits.remove(done)
            return f"Telegraf did not start on its HTTPS configuration: {why}"
    return None


def _undo_before_restart(plan: InstallPlan, store: PairStore, previous: Pair | None,
                         undo: _Undo, why: str) -> RunbookError:
    """Telegraf could not be stopped: nothing restarted yet, so the files go back as
    they were (influxd still runs on them) and the install stops."""
    if previous is not None:
        store.point(LIVE, previous)
    if undo.config is not None and undo.config.backup is not None:
        restore(undo.config)
    return InstallRefused(f"Telegraf could not be stopped before influxd's restart: {why}. "
                          "Nothing was restarted; the served certificate is untouched",
                          fix=f"fix the Telegraf stop command, then {plan.retry}")
