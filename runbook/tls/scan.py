"""What a live TLS server offers, seen by a client that offers one thing at a time.

Versions and TLS 1.2 cipher suites come from runbook.tls.probe; key-exchange
curves and TLS 1.3 suites are tried one per handshake with `openssl s_client`
(Python's set_ecdh_curve cannot offer X25519 with Debian's Python 3.11.2:
"unknown group"). A server that cannot be graded (nothing listens,
plain HTTP, silence) is a NotGradable error: bad input, exit 2.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import TypeVar

from runbook.deadline import Deadline, check_seconds
from runbook.errors import EXIT_USAGE, EnvironmentProblem, ProbeError, UsageError
from runbook.tls.contexts import permissive_context, tls_context
from runbook.tls.probe import (
    VERSIONS,
    Target,
    _cipher_accepted,
    _step,
    _tls12_cipher_names,
    handshake,
    try_version,
    verify,
)

CURVES = ("X25519", "prime256v1", "secp384r1", "secp521r1", "X448")
DEFAULT_BUDGET = 30.0  # seconds for a whole scan (about 60 handshakes and 10 s_client runs)
T = TypeVar("T")
WORKERS = 8  # handshakes at once: quick on a 2-core machine, gentle on the server


class GradeOverBudget(ProbeError):
    """The scan's total budget ran out before every handshake was tried."""


class NotGradable(ProbeError):
    """No TLS server to grade at that address: nothing listens, plain HTTP, or silence."""

    exit_code = EXIT_USAGE


@dataclass
class CertificateFacts:
    key_type: str  # "rsa", "ecdsa" or the key's class name
    key_bits: int
    curve: str | None  # OpenSSL name of an ECDSA key's curve
    signature: str  # e.g. sha256WithRSAEncryption
    lifespan_days: int
    subject: str


@dataclass
class Scan:
    url: str
    versions: list[str] = field(default_factory=list)  # accepted, oldest first
    ciphers: list[str] = field(default_factory=list)  # TLS 1.2 and below
    tls13_suites: list[str] = field(default_factory=list)
    curves: list[str] = field(default_factory=list)
    untested_curves: list[str] = field(default_factory=list)  # this machine's OpenSSL lacks them
    certificate: CertificateFacts | None = None
    verify_error: str | None = None  # None: chain and name verified

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _certificate_facts(der: bytes) -> CertificateFacts:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    from runbook.tls.certs import not_after, not_before

    cert = x509.load_der_x509_certificate(der)
    key = cert.public_key()
    curve = None
    if isinstance(key, rsa.RSAPublicKey):
        kind, bits = "rsa", key.key_size
    elif isinstance(key, ec.EllipticCurvePublicKey):
        kind, bits = "ecdsa", key.key_size
        curve = {"secp256r1": "prime256v1"}.get(key.curve.name, key.curve.name)
    else:
        kind, bits = type(key).__name__.lstrip("_").replace("PublicKey", "").lower(), 0
    signature = getattr(cert.signature_algorithm_oid, "_name", None) or \
        cert.signature_algorithm_oid.dotted_string
    return CertificateFacts(kind, bits, curve, signature,
                            (not_after(cert) - not_before(cert)).days,
                            cert.subject.rfc4514_string())


def _serves_plain_http(target: Target, timeout: float) -> bool:
    """Whether the port answers an HTTP request in clear (influxd with TLS off)."""
    with contextlib.suppress(OSError), \
            socket.create_connection((target.host, target.port), timeout=timeout) as sock:
        sock.sendall(f"GET /health HTTP/1.0\r\nHost: {target.host}\r\n\r\n".encode())
        return sock.recv(16).startswith(b"HTTP/")
    return False


def _first_handshake(target: Target, timeout: float, scan: Scan) -> None:
    try:
        with handshake(target, permissive_context(), timeout) as tls:
            der = tls.getpeercert(binary_form=True)
    except ProbeError as exc:
        raise NotGradable(exc.message, fix=exc.fix, **exc.context) from None
    except (ssl.SSLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        if _serves_plain_http(target, timeout):
            raise NotGradable(
                f"{target.host}:{target.port} serves plain HTTP, not TLS ({reason})",
                fix="give the port of a TLS influxd, or enable TLS: set both tls-cert and "
                    "tls-key", host=target.host, port=target.port) from None
        raise NotGradable(f"no TLS handshake with {target.host}:{target.port}: {reason}",
                          fix="is this port serving TLS? try: curl -v https://HOST:PORT/health",
                          host=target.host, port=target.port) from None
    if der:
        scan.certificate = _certificate_facts(der)


_S_CLIENT_VERSION = {ssl.TLSVersion.TLSv1: "-tls1", ssl.TLSVersion.TLSv1_1: "-tls1_1",
                     ssl.TLSVersion.TLSv1_2: "-tls1_2", ssl.TLSVersion.TLSv1_3: "-tls1_3"}
TLS13_SUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256",
                "TLS_AES_128_CCM_8_SHA256")


def _s_client(target: Target, args: list[str], what: str, timeout: float) -> bool | None:
    """Whether `openssl s_client ARGS` completes a handshake; None when this machine's
    openssl cannot offer what ARGS ask for (an unknown group or suite)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise EnvironmentProblem("openssl is not installed; grade offers curves and TLS 1.3 "
                                 "suites with it", fix="install it: apt-get install openssl")
    host = f"[{target.host}]" if ":" in target.host else target.host
    cmd = [openssl, "s_client", "-connect", f"{host}:{target.port}", "-servername",
           target.server_name, *args]
    try:  # s_client's own steps have no timeout: bound the whole run
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,  # noqa: S603
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ProbeError(f"{target.host}:{target.port} gave no answer within {timeout:g}s "
                         f"(handshake offering {what})", fix="raise --timeout only for a "
                         "slow link", host=target.host, port=target.port) from None
    if proc.returncode != 0 and "SSL_CONF_cmd" in proc.stderr:  # unknown to this openssl
        return None
    return proc.returncode == 0


def curve_accepted(target: Target, curve: str, version: ssl.TLSVersion,
                   timeout: float) -> bool | None:
    """Whether a handshake offering only `curve` (ECDHE suites only) completes; None when
    this machine's openssl cannot offer that curve."""
    args = ["-groups", curve, _S_CLIENT_VERSION[version]]
    if version != ssl.TLSVersion.TLSv1_3:  # 1.0 and 1.1 need security level 0 too
        args += ["-cipher", "ECDHE:@SECLEVEL=0"]
    return _s_client(target, args, curve, timeout)


def tls13_suite_accepted(target: Target, suite: str, timeout: float) -> bool | None:
    """Whether a TLS 1.3 handshake offering only `suite` completes (None: unknown here)."""
    return _s_client(target, ["-tls1_3", "-ciphersuites", suite], suite, timeout)


def scan(url: str, *, ca_file: str | None = None, timeout: float = 5.0,
         budget: float = DEFAULT_BUDGET) -> Scan:
    """Everything a grade needs. Each handshake is bounded by `timeout`, the whole
    scan by `budget`: after the first handshake the others run a few at a time,
    and a scan the budget cuts short is an error, never a partial grade."""
    if url.lower().startswith("http://"):  # say "grade", not probe's wording
        raise UsageError(f"grade needs an https:// URL, not {url!r}",
                         fix=f"use https://{url[len('http://'):]}", url=url)
    for name, value in (("--timeout", timeout), ("--budget", budget)):
        check_seconds(name, value)
    target = Target.from_url(url)
    verifying = tls_context(ca_file)  # a bad CA file fails before any connection
    total = Deadline(budget)
    result = Scan(url=url)
    _first_handshake(target, min(timeout, budget), result)
    try:
        _versions_ciphers_trust(target, verifying, timeout, total, result)
        _suites_and_curves(target, timeout, total, result)
    except ProbeError as exc:  # the server went silent or away half-way
        if not total.expired:
            raise NotGradable(exc.message, fix=exc.fix, **exc.context) from None
    if total.expired:
        raise GradeOverBudget(f"grading {url} took its whole budget of {budget:g}s; "
                              "the handshakes left would be counted as refused",
                              fix="raise --budget (a slow link or a server that answers "
                                  "slowly), or lower --timeout", url=url, budget=budget)
    return result


def _bounded(timeout: float, total: Deadline, step: Callable[..., T], *args: object) -> T:
    """step(*args, seconds): a handshake given `timeout`, or what is left of the
    budget when it starts, if less."""
    return step(*args, _step(timeout, total))


def _versions_ciphers_trust(target: Target, verifying: ssl.SSLContext, timeout: float,
                            total: Deadline, result: Scan) -> None:
    """Versions, TLS 1.2 suites and verification: all their handshakes at once."""
    run = functools.partial(_bounded, timeout, total)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        versions = {v: pool.submit(run, try_version, target, v) for v in VERSIONS}
        ciphers = {n: pool.submit(run, _cipher_accepted, target, n)
                   for n in _tls12_cipher_names()}
        verified = pool.submit(run, verify, target, verifying)
        result.versions = [v for v, f in versions.items() if f.result() == "accepted"]
        result.ciphers = [n for n, f in ciphers.items() if f.result()]
        result.verify_error = verified.result()


def _suites_and_curves(target: Target, timeout: float, total: Deadline, result: Scan) -> None:
    """TLS 1.3 suites and curves (openssl s_client), at once, at the newest version."""
    newest = VERSIONS[result.versions[-1]] if result.versions else ssl.TLSVersion.TLSv1_2
    suites = TLS13_SUITES if "TLSv1.3" in result.versions else ()
    run = functools.partial(_bounded, timeout, total)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        suite_jobs = {x: pool.submit(run, tls13_suite_accepted, target, x) for x in suites}
        curve_jobs = {c: pool.submit(run, curve_accepted, target, c, newest) for c in CURVES}
        result.tls13_suites = [x for x, f in suite_jobs.items() if f.result()]
        for curve, job in curve_jobs.items():
            accepted = job.result()
            if accepted is None:
                result.untested_curves.append(curve)
            elif accepted:
                result.curves.append(curve)
