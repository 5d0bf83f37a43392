"""What a TLS server really does: versions, cipher, certificate, verification.

Uses Python's ssl (OpenSSL) as a client. To test whether the *server*
refuses old protocols, the client lowers its own security level so that it
can offer them; a refusal seen here is the server's.
"""

from __future__ import annotations

import contextlib
import functools
import math
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from runbook.deadline import Deadline, connect, in_parallel, recv_until
from runbook.errors import ProbeError, UsageError
from runbook.tls.contexts import permissive_context, tls_context
from runbook.tls.pem import serial_hex

DEFAULT_TIMEOUT = 5.0  # seconds for each network step: connect, handshake and read together
PLAIN_HTTP_READ_LIMIT = 64 * 1024

VERSIONS = {
    "TLSv1.0": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}
PLAIN_HTTP_REFUSAL = "Client sent an HTTP request to an HTTPS server."


@dataclass
class Target:
    host: str
    port: int
    server_name: str

    @classmethod
    def from_url(cls, url: str, server_name: str | None = None) -> Target:
        """The host, port and name to verify in `url`; UsageError for what cannot work."""
        try:
            parts = urlsplit(url if "://" in url else f"https://{url}")
            port = parts.port
        except ValueError as exc:  # a port out of range or not a number
            raise UsageError(f"bad URL {url!r}: {exc}", fix="e.g. https://localhost:8086",
                             url=url) from None
        if parts.scheme != "https":
            raise UsageError(f"probe needs an https:// URL, not {url!r}",
                             fix=f"use https://{parts.netloc or url}", url=url)
        if not parts.hostname:
            raise UsageError(f"no host in {url!r}", fix="e.g. https://localhost:8086", url=url)
        if port == 0:
            raise UsageError(f"port 0 in {url!r} cannot be connected to",
                             fix="e.g. https://localhost:8086", url=url)
        for name in (parts.hostname, server_name):
            if name is not None:
                check_host_name(name, url)
        return cls(parts.hostname, port or 443, server_name or parts.hostname)


def check_host_name(name: str, url: str) -> None:
    """Refuse names that cannot be looked up or sent as SNI (IDNA rules, NUL bytes)."""
    try:
        if "\x00" in name or not name.strip():
            raise ValueError("empty, or holds a NUL byte")
        name.encode("idna")
    except (UnicodeError, ValueError) as exc:
        raise UsageError(f"host name {name!r} in {url!r} is not valid: {exc}",
                         fix="use a DNS name (labels of 1 to 63 characters) or an IP address",
                         url=url) from None


@dataclass
class ProbeResult:
    url: str
    versions: dict[str, str] = field(default_factory=dict)  # "accepted" or "refused: why"
    negotiated_version: str | None = None
    cipher: str | None = None
    certificate: dict[str, object] = field(default_factory=dict)
    verified: bool = False
    verify_error: str | None = None
    plain_http_refused: bool | None = None
    tls12_ciphers: list[str] = field(default_factory=list)
    # --compare-files: the served leaf against a file's ({} when not asked)
    compared: dict[str, object] = field(default_factory=dict)
    # --ciphers asked for the list: the text shows it even when empty (not in the JSON)
    ciphers_listed: bool = field(default=False, repr=False)

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        del d["ciphers_listed"]
        return d

    @property
    def stale(self) -> bool:
        """--compare-files found the served certificate is not the file's."""
        return bool(self.compared.get("finding"))

    def text(self) -> str:
        lines = [f"{version:8} {outcome}" for version, outcome in self.versions.items()]
        lines.append(f"negotiated {self.negotiated_version} {self.cipher}")
        cert: dict[str, Any] = self.certificate
        lines.append(f"certificate {cert.get('subject')} issued by {cert.get('issuer')}")
        lines.append(f"  names {', '.join(cert.get('sans', []))}; "
                     f"expires {cert.get('not_after')}")
        lines.append("verified: yes" if self.verified else f"verified: NO ({self.verify_error})")
        lines.append(f"plain HTTP refused: {'yes' if self.plain_http_refused else 'NO'}")
        if self.ciphers_listed:
            lines.append("TLS 1.2 ciphers accepted: " + ", ".join(self.tls12_ciphers))
        if self.compared:
            c = self.compared
            finding: Any = c["finding"]
            if finding:
                lines.append(f"{finding['severity'].upper()} [{finding['id']}] "
                             f"{finding['message']}\n  fix: {finding['fix']}")
            else:
                lines.append(f"served certificate = {c['file']} (serial {c['served_serial']})")
        return "\n".join(lines)


def _silent(target: Target, timeout: float, step: str) -> ProbeError:
    return ProbeError(
        f"{target.host}:{target.port} gave no answer within {timeout:g}s ({step})",
        fix="is something else listening there? check it with: ss -ltnp; raise --timeout "
            "only for a slow link", host=target.host, port=target.port)


def _connect(target: Target, deadline: Deadline) -> socket.socket:
    """A TCP connection made before `deadline`."""
    try:
        return connect(target.host, target.port, deadline)
    except TimeoutError:
        raise _silent(target, deadline.seconds, "connecting") from None
    except (OSError, UnicodeError) as exc:
        raise ProbeError(
            f"cannot connect to {target.host}:{target.port}: "
            f"{getattr(exc, 'strerror', None) or exc}",
            fix="check that influxd runs and listens there (ss -ltnp | grep 8086)",
            host=target.host, port=target.port,
        ) from exc


def handshake(target: Target, ctx: ssl.SSLContext,
              timeout: float = DEFAULT_TIMEOUT) -> ssl.SSLSocket:
    """A completed TLS handshake (caller closes it), ssl.SSLError or OSError if refused,
    ProbeError if connecting and the handshake together take over `timeout`."""
    deadline = Deadline(timeout)
    sock = _connect(target, deadline)
    try:
        deadline.arm(sock)  # CPython bounds the whole handshake by the socket's timeout
        tls = ctx.wrap_socket(sock, server_hostname=target.server_name)
        tls.settimeout(max(deadline.left(), 0.001))
        return tls
    except TimeoutError:
        sock.close()
        raise _silent(target, timeout, "TLS handshake") from None
    except BaseException:
        sock.close()
        raise


def try_version(target: Target, version: str, timeout: float = DEFAULT_TIMEOUT) -> str:
    try:
        with handshake(target, permissive_context(VERSIONS[version]), timeout):
            return "accepted"
    except (ssl.SSLError, OSError) as exc:
        return f"refused: {getattr(exc, 'reason', None) or exc}"
    except ProbeError as exc:
        return f"refused: {exc.message}"


def _tls12_cipher_names() -> list[str]:
    return [c["name"] for c in permissive_context().get_ciphers() if c["protocol"] != "TLSv1.3"]


def _cipher_accepted(target: Target, name: str, timeout: float) -> bool:
    try:
        ctx = permissive_context(ssl.TLSVersion.TLSv1_2, f"{name}:@SECLEVEL=0")
        with handshake(target, ctx, timeout):
            return True
    except (ssl.SSLError, OSError, ProbeError):
        return False


def tls12_ciphers_accepted(target: Target, timeout: float = DEFAULT_TIMEOUT,
                           budget: Deadline | None = None) -> list[str]:
    """Each TLS 1.2 cipher suite the server accepts, offered one at a time, several
    handshakes at once; each within `timeout`, all within `budget` if given."""
    names = _tls12_cipher_names()
    results = in_parallel([functools.partial(_cipher_accepted, target, n,
                                             _step(timeout, budget)) for n in names])
    return [n for n, ok in zip(names, results, strict=True) if ok]


def _step(timeout: float, budget: Deadline | None) -> float:
    """A step's own limit: `timeout`, or what is left of the budget if less."""
    if budget is None:
        return timeout
    return max(0.001, min(timeout, budget.left()))


def plain_http_refused(target: Target, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Whether plain HTTP to the TLS port gets Go's 400 refusal (read at most 64 KiB,
    within `timeout` in all)."""
    deadline = Deadline(timeout)
    data = b""
    with contextlib.suppress(OSError, ProbeError), \
            contextlib.closing(_connect(target, deadline)) as sock:
        deadline.arm(sock)
        sock.sendall(f"GET /api/v2/ping HTTP/1.0\r\nHost: {target.host}\r\n\r\n".encode())
        data = recv_until(sock, deadline, limit=PLAIN_HTTP_READ_LIMIT,
                          done=PLAIN_HTTP_REFUSAL.encode())
    text = data.decode(errors="replace")
    return text.startswith("HTTP/1.0 400") and PLAIN_HTTP_REFUSAL in text


def verify(target: Target, ctx: ssl.SSLContext, timeout: float = DEFAULT_TIMEOUT) -> str | None:
    """None when chain and hostname verify with `ctx` (see contexts.tls_context); a
    certificate that names the host only in its CN fails, as it does in Go clients."""
    try:
        with handshake(target, ctx, timeout):
            return None
    except ssl.SSLCertVerificationError as exc:
        return with_cn_only(exc.verify_message or str(exc), target, timeout)
    except (ssl.SSLError, OSError) as exc:
        return str(exc)
    except ProbeError as exc:
        return exc.message


def cn_only(der: bytes) -> bool:
    """Whether the certificate has no subjectAltName (a name only in its CN)."""
    from cryptography import x509

    try:
        cert = x509.load_der_x509_certificate(der)
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return True
    except ValueError:
        return False
    return False


CN_ONLY = ("the certificate has no subjectAltName and names the host only in its CN: Go "
           "clients (Telegraf, the influx CLI) refuse it (x509: certificate relies on legacy "
           "Common Name field, use SANs instead)")


def with_cn_only(message: str, target: Target, timeout: float) -> str:
    """A verification failure's message, plus CN_ONLY when that is (also) the cause."""
    cn = cn_only_reason(target, timeout)
    return f"{message}; {cn}" if cn else message


def cn_only_reason(target: Target, timeout: float) -> str | None:
    """CN_ONLY when the server's leaf has no SAN; None otherwise (or if it cannot be read)."""
    try:
        with handshake(target, permissive_context(), timeout) as tls:
            der = tls.getpeercert(binary_form=True)
    except (ssl.SSLError, OSError, ProbeError):
        return None
    return CN_ONLY if der and cn_only(der) else None


def _describe_cert(der: bytes) -> dict[str, object]:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm

    from runbook.tls.certs import cert_sans, not_after

    try:
        cert = x509.load_der_x509_certificate(der)
        return {
            "subject": cert.subject.rfc4514_string(),
            "issuer": cert.issuer.rfc4514_string(),
            "sans": [str(s) for s in cert_sans(cert) or []],
            "not_after": not_after(cert).isoformat(),
            "key": type(cert.public_key()).__name__.lstrip("_").replace("PublicKey", ""),
        }
    except (ValueError, UnsupportedAlgorithm) as exc:
        return {"subject": "?", "issuer": "?", "sans": [], "not_after": "?",
                "error": f"the server's certificate cannot be parsed: {exc}"}


def served_leaf(url: str, *, ca_file: str | None = None, server_name: str | None = None,
                timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """The DER of the certificate the server at `url` presents, over a handshake
    verified (chain and name, SANs only) against `ca_file` or the system store."""
    target = Target.from_url(url, server_name)
    try:
        with handshake(target, tls_context(ca_file), timeout) as tls:
            der = tls.getpeercert(binary_form=True)
    except ssl.SSLCertVerificationError as exc:
        why = with_cn_only(exc.verify_message or str(exc), target, timeout)
        raise ProbeError(f"{target.host}:{target.port} does not verify as "
                         f"{target.server_name}: {why}",
                         fix="check the chain and the name (runbook probe URL)",
                         host=target.host, port=target.port) from None
    except (ssl.SSLError, OSError) as exc:
        raise _no_handshake(target, exc) from None
    return _presented(target, der)


def _presented(target: Target, der: bytes | None) -> bytes:
    if not der:
        raise ProbeError(f"{target.host}:{target.port} presented no certificate",
                         host=target.host, port=target.port)
    return der


def _no_handshake(target: Target, exc: BaseException) -> ProbeError:
    return ProbeError(f"no TLS handshake with {target.host}:{target.port}: "
                      f"{getattr(exc, 'reason', None) or exc}",
                      fix="is influxd running with TLS there? (ss -ltnp | grep 8086)",
                      host=target.host, port=target.port)


def served_leaf_unverified(url: str, *, server_name: str | None = None,
                           timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """The DER of the certificate the server at `url` presents, trusted or not
    (to tell which pair on disk it is)."""
    target = Target.from_url(url, server_name)
    try:
        with handshake(target, permissive_context(), timeout) as tls:
            der = tls.getpeercert(binary_form=True)
    except (ssl.SSLError, OSError) as exc:
        raise _no_handshake(target, exc) from None
    return _presented(target, der)


def compare_with_file(served_der: bytes, cert_path: str) -> dict[str, object]:
    """The served leaf against the first certificate in `cert_path`: serials,
    validity and, when they differ, the finding (served-cert-older when the
    file's is newer: renewed on disk, influxd not restarted)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    from runbook.checks.findings import ERROR, Finding
    from runbook.tls.certs import not_after, not_before
    from runbook.tls.pem import load_certificates

    on_disk = load_certificates(cert_path)[0]
    served = x509.load_der_x509_certificate(served_der)
    finding = None
    served_serial, file_serial = serial_hex(served.serial_number), serial_hex(on_disk.serial_number)
    if served.fingerprint(hashes.SHA256()) != on_disk.fingerprint(hashes.SHA256()):
        # Issued earlier, or (same second) expiring earlier: what a renewal replaces.
        older = (not_before(served), not_after(served)) < (not_before(on_disk),
                                                            not_after(on_disk))
        what = (f"influxd serves an older certificate (serial {served_serial}, "
                f"expires {not_after(served):%Y-%m-%d %H:%M} UTC) than {cert_path} (serial "
                f"{file_serial}, expires {not_after(on_disk):%Y-%m-%d %H:%M} UTC)")
        if older:
            finding = Finding("served-cert-older", ERROR,
                              what + ": it was renewed on disk, and influxd, which reads its "
                              "certificate only at start, was not restarted",
                              "restart influxd (systemctl restart influxdb, docker restart "
                              "influxdb, or however you start it); let a certbot deploy hook "
                              "restart it at every renewal (runbook deploy-hook)")
        else:
            finding = Finding("served-cert-differs", ERROR,
                              f"influxd serves a certificate (serial {served_serial}) "
                              f"other than the one in {cert_path} (serial "
                              f"{file_serial}), and not an older one",
                              "check which file tls-cert names (influxd print-config --key-name "
                              "tls-cert) and compare against that one")
    return {"file": str(cert_path), "served_serial": served_serial, "file_serial": file_serial,
            "served_not_after": not_after(served).isoformat(),
            "file_not_after": not_after(on_disk).isoformat(),
            "finding": finding.as_dict() if finding else None}


def probe(url: str, *, ca_file: str | None = None, server_name: str | None = None,
          ciphers: bool = False, timeout: float = DEFAULT_TIMEOUT,
          compare_files: str | None = None) -> ProbeResult:
    """Everything `runbook probe` reports about the server at `url`.

    Every network step (connect, handshake and its reads together) has `timeout`
    seconds; the steps after the first run at once, so the whole probe is bounded
    by 2 x `timeout` (3 x with `ciphers`).
    """
    if not (math.isfinite(timeout) and 0 < timeout <= 600):
        raise UsageError(f"timeout {timeout!r} is out of range", fix="give 0.1 to 600 seconds")
    target = Target.from_url(url, server_name)
    verifying = tls_context(ca_file)  # a bad CA file fails before any connection
    if compare_files is not None:  # so does a bad certificate file, or one with a key
        from runbook.tls.pem import load_certificates, refuse_key_in_certificate

        load_certificates(compare_files)
        refuse_key_in_certificate(compare_files)
    result = ProbeResult(url=url)
    try:
        with handshake(target, permissive_context(), timeout) as tls:
            result.negotiated_version = tls.version()
            cipher = tls.cipher()
            result.cipher = cipher[0] if cipher else None
            der = tls.getpeercert(binary_form=True)
            if der:
                result.certificate = _describe_cert(der)
                if compare_files is not None:
                    result.compared = compare_with_file(der, compare_files)
    except (ssl.SSLError, OSError) as exc:
        raise ProbeError(f"no TLS handshake with {target.host}:{target.port}: "
                         f"{getattr(exc, 'reason', None) or exc}",
                         fix="is this port serving TLS? try: curl -v http://HOST:PORT/health",
                         host=target.host, port=target.port) from exc
    # The other steps at once: each within `timeout`, so the probe ends
    # within twice that (plus --ciphers' own batch), whatever the server does.
    with ThreadPoolExecutor(max_workers=len(VERSIONS) + 2) as pool:
        versions = {v: pool.submit(try_version, target, v, timeout) for v in VERSIONS}
        verified = pool.submit(verify, target, verifying, timeout)
        refused = pool.submit(plain_http_refused, target, timeout)
        result.versions = {v: f.result() for v, f in versions.items()}
        result.verify_error = verified.result()
        result.plain_http_refused = refused.result()
    result.verified = result.verify_error is None
    if ciphers:
        result.ciphers_listed = True
        result.tls12_ciphers = tls12_ciphers_accepted(target, timeout)
    return result
