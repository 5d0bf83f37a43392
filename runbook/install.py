"""A certbot deploy hook for influxd: gate, install, restart, verify, roll back.

influxd reads its certificate only at start, certbot's files are root-only
symlinks, and a renewal knows nothing of influxd. After each issuance or
renewal (certbot sets RENEWED_LINEAGE to /etc/letsencrypt/live/NAME):

1. check the options (URL, host, timeouts) and read the lineage's files
   before anything changes; take the folder's lock (one hook at a time);
2. stage fullchain.pem and privkey.pem as a new pair folder (key 0600 and
   owned by influxd's user from its first byte) and gate it with the checks
   of `runbook check`: any error refuses the pair before the one in service
   is touched;
3. probe which pair influxd serves; keep that one as previous/ (only a pair
   influxd's user can load: a rollback must never restore one it cannot);
4. point the served paths at the new pair with one rename (runbook/pair_store.py);
5. restart influxd and poll, over a verified handshake for the name, until
   it serves the new certificate;
6. if 5 fails: point them back at previous/ (one rename), restart, and say
   what a probe finds served.

Every change is one rename, so an interrupt (Ctrl-C, SIGTERM, a crash) at any
point leaves the served paths on a complete pair and the served one on disk;
running the hook again converges, as it decides from what it probes.
"""

from __future__ import annotations

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

from runbook.certs import not_after
from runbook.checks import check_files
from runbook.deadline import check_seconds
from runbook.errors import ProbeError, RunbookError, UsageError
from runbook.files import PEM_LIMIT, read_input, write_together
from runbook.findings import Finding, has_errors
from runbook.pair_store import CERT_NAME, KEY_NAME, LIVE, PREVIOUS, HookBusy, Pair, PairStore
from runbook.pem import key_in_certificate, load_certificates, private_key_labels, serial_hex
from runbook.probe import Target, served_leaf, served_leaf_unverified

__all__ = ["CERT_NAME", "KEY_NAME", "PREVIOUS", "HookBusy", "HookPlan", "HookRefused",
           "HookResult", "HookRolledBack", "RollbackFailed", "deploy"]

DEFAULT_DEST = Path("/etc/ssl/influxdb")
DEFAULT_RESTART = "systemctl restart influxdb"
DEFAULT_URL = "https://localhost:8086"
PROBE_TIMEOUT = 5.0  # seconds for the probe of what is served before and after
OUTPUT_TAIL = 4096  # bytes of the restart command's output kept for the message
POLL_S = 0.1

# Tests interrupt the hook at each named step (tests/unit/test_hook_interrupts.py).
CHECKPOINT: Callable[[str], None] | None = None


def _checkpoint(step: str) -> None:
    if CHECKPOINT is not None:
        CHECKPOINT(step)


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
    lock_timeout: float | None = None  # None: as long as one hook can hold the lock

    def lock_wait(self) -> float:
        if self.lock_timeout is not None:
            return self.lock_timeout
        return 2 * (self.restart_timeout + self.verify_timeout) + 2 * PROBE_TIMEOUT


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


# --- 1. input, checked before anything changes ----------------------------------------

def validate(plan: HookPlan) -> None:
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
    if not plan.dest.is_dir():
        raise UsageError(f"certificate folder {plan.dest} does not exist",
                         fix=f"create it (mkdir -p {plan.dest}) or pass --dest")


def _read_lineage(plan: HookPlan) -> tuple[bytes, bytes]:
    chain = read_input(plan.lineage / "fullchain.pem", "certificate chain", limit=PEM_LIMIT)
    key = read_input(plan.lineage / "privkey.pem", "private key", limit=PEM_LIMIT)
    labels = private_key_labels(chain)
    if labels:  # never written, not even to staging: the chain is installed 0644
        err = key_in_certificate(plan.lineage / "fullchain.pem", labels)
        raise HookRefused(f"refused the new pair from {plan.lineage}: [cert-holds-private-key] "
                          f"{err.message}. The served certificate is untouched",
                          fix=err.fix, findings=["cert-holds-private-key"])
    return chain, key


# --- 2. stage and gate -------------------------------------------------------------------

def _stage(plan: HookPlan, store: PairStore, chain: bytes, key: bytes) -> tuple[Pair,
                                                                                list[Finding]]:
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


def _loadable(plan: HookPlan, pair: Pair) -> bool:
    """Whether influxd's user could load `pair` (a pair, not encrypted, readable): what a
    rollback needs. Not trust or names: the pair in service may be configure.md's
    self-signed one, and still worth keeping."""
    try:
        findings = check_files(pair.cert, pair.key, uid=plan.owner[0])
    except RunbookError:
        return False
    return not has_errors(findings)


def _gate(plan: HookPlan, staging: Path) -> list[Finding]:
    findings = check_files(staging / CERT_NAME, staging / KEY_NAME, host=plan.host,
                           ca_path=plan.ca_file or _system_bundle(), uid=plan.owner[0])
    if has_errors(findings):
        named = "; ".join(f"[{f.id}] {f.message}" for f in findings if f.severity == "error")
        named = named.replace(str(staging), str(plan.lineage))
        raise HookRefused(f"refused the new pair from {plan.lineage}: {named}. The served "
                          "certificate is untouched",
                          fix="fix the pair certbot gave (or the options: --host, --ca, "
                              "--user) and run certbot renew --force-renewal again",
                          findings=[f.id for f in findings if f.severity == "error"])
    return findings


# --- 3. what is served --------------------------------------------------------------------

@dataclass
class Served:
    der: bytes | None  # the leaf influxd presents; None when nothing answers
    error: str = ""   # why nothing answers
    pair: Pair | None = None  # the pair on disk that holds that leaf, if one does

    def describe(self, plan: HookPlan) -> str:
        if self.der is None:
            return f"nothing serves TLS at {plan.url} ({self.error})"
        from cryptography import x509

        serial = serial_hex(x509.load_der_x509_certificate(self.der).serial_number)
        return f"{plan.url} serves serial {serial}"


def _probe_served(plan: HookPlan, store: PairStore) -> Served:
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


def _probe_settled(plan: HookPlan, store: PairStore) -> Served:
    """What is served once a server that is still starting answers (or after
    PROBE_TIMEOUT): the last word of a failed hook is a probe, not a guess."""
    deadline = time.monotonic() + PROBE_TIMEOUT
    while True:
        served = _probe_served(plan, store)
        if served.der is not None or time.monotonic() >= deadline:
            return served
        time.sleep(POLL_S)


def _keep_as_previous(plan: HookPlan, store: PairStore, served: Served,
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

def _run_restart(plan: HookPlan) -> str | None:
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


def _wait_served(plan: HookPlan, pair: Pair, *, verified: bool) -> str | None:
    """None once `pair`'s leaf is served (over a handshake verified for --host
    when `verified`) within --verify-timeout in all; else what was served last."""
    want = pair.leaf_der()
    deadline = time.monotonic() + plan.verify_timeout
    last = "nothing answered yet"
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return (f"timed out after {plan.verify_timeout:g}s waiting for {plan.url} to serve "
                    f"serial {_serial(pair.cert)}; last: {last}")
        _checkpoint("verifying")
        try:
            if verified:
                der = served_leaf(plan.url, ca_file=plan.ca_file, server_name=plan.host,
                                  timeout=left)
            else:
                der = served_leaf_unverified(plan.url, server_name=plan.host, timeout=left)
            if der == want:
                return None
            from cryptography import x509

            last = f"serial {serial_hex(x509.load_der_x509_certificate(der).serial_number)}"
        except (ProbeError, RunbookError) as exc:
            last = exc.message
        time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))


def _restart_and_verify(plan: HookPlan, pair: Pair, *, verified: bool = True) -> str | None:
    why = _run_restart(plan)
    _checkpoint("restarted")
    if why is not None:
        return why
    return _wait_served(plan, pair, verified=verified)


# --- 6. roll back ---------------------------------------------------------------------------

def _roll_back(plan: HookPlan, store: PairStore, new: Pair, previous: Pair | None,
               why: str) -> None:
    new_serial = _serial(new.cert)
    if previous is None:
        now = _probe_settled(plan, store).describe(plan)
        raise RollbackFailed(f"the new certificate (serial {new_serial}) is not served: {why}; "
                             "there was no previous pair (none influxd could load) to put "
                             f"back; a probe now: {now}",
                             fix="fix the cause above, then restart influxd")
    store.point(LIVE, previous)
    _checkpoint("rolled-back")
    old_serial = _serial(previous.cert)
    again = _restart_and_verify(plan, previous, verified=False)
    if again is None:
        raise HookRolledBack(f"the new certificate (serial {new_serial}) is not served: {why}; "
                             f"the previous one (serial {old_serial}) is served again",
                             fix="fix the cause above, then run certbot renew --force-renewal")
    probed = _probe_settled(plan, store)
    state = ("influxd is down" if probed.der is None
             else "influxd serves neither" if probed.pair not in (new, previous)
             else "influxd serves the new one")
    raise RollbackFailed(f"the new certificate (serial {new_serial}) is not served: {why}; "
                         f"the previous one (serial {old_serial}) is back on disk but not "
                         f"served either: {again}; a probe now: {probed.describe(plan)}",
                         fix=f"{state}: read its log (journalctl -u influxdb, docker logs "
                             "influxdb, or its log file) and start it")


def deploy(plan: HookPlan) -> HookResult:
    """Steps 1 to 6 of the module docstring; raises UsageError, HookBusy, HookRefused,
    HookRolledBack or RollbackFailed, each saying what is served now."""
    validate(plan)
    chain, key = _read_lineage(plan)
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
        if served.pair == new:  # a rerun after the restart: already served
            why = _wait_served(plan, new, verified=True)
        else:
            why = _restart_and_verify(plan, new)
        if why is not None:
            _roll_back(plan, store, new, previous, why)
        store.collect_garbage()
        _checkpoint("done")
    expires = not_after(load_certificates(new.cert)[0]).isoformat()
    return HookResult(_serial(new.cert), expires,
                      _serial(previous.cert) if previous is not None else None, findings)
