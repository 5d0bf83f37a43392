"""What a TLS server really does: versions, cipher, certificate, verification.

Uses Python's ssl (OpenSSL) as a client. To test whether the *server*
refuses old protocols, the client lowers its own security level so that it
can offer them; a refusal seen here is the server's.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import warnings
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

from runbook.errors import ProbeError, UsageError

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
        parts = urlsplit(url if "://" in url else f"https://{url}")
        if parts.scheme != "https":
            raise UsageError(f"probe needs an https:// URL, not {url!r}",
                             fix=f"use https://{parts.netloc or url}", url=url)
        if not parts.hostname:
            raise UsageError(f"no host in {url!r}", fix="e.g. https://localhost:8086", url=url)
        return cls(parts.hostname, parts.port or 443, server_name or parts.hostname)


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

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _permissive_context(version: ssl.TLSVersion | None = None,
                        ciphers: str = "ALL:@SECLEVEL=0") -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers(ciphers)
    if version is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = version
            ctx.maximum_version = version
    return ctx


def _connect(target: Target, timeout: float) -> socket.socket:
    try:
        return socket.create_connection((target.host, target.port), timeout=timeout)
    except OSError as exc:
        raise ProbeError(
            f"cannot connect to {target.host}:{target.port}: {exc.strerror or exc}",
            fix="check that influxd runs and listens there (ss -ltnp | grep 8086)",
            host=target.host, port=target.port,
        ) from exc


def handshake(target: Target, ctx: ssl.SSLContext, timeout: float = 5.0) -> ssl.SSLSocket:
    """A completed TLS handshake (caller closes it), or ssl.SSLError."""
    sock = _connect(target, timeout)
    try:
        return ctx.wrap_socket(sock, server_hostname=target.server_name)
    except BaseException:
        sock.close()
        raise


def try_version(target: Target, version: str, timeout: float = 5.0) -> str:
    try:
        with handshake(target, _permissive_context(VERSIONS[version]), timeout):
            return "accepted"
    except (ssl.SSLError, ConnectionError, OSError) as exc:
        if isinstance(exc, ProbeError):
            raise
        return f"refused: {getattr(exc, 'reason', None) or exc}"


def tls12_ciphers_accepted(target: Target, timeout: float = 5.0) -> list[str]:
    """Each TLS 1.2 cipher suite the server accepts, offered one at a time."""
    offered = [c["name"] for c in _permissive_context().get_ciphers()
               if c["protocol"] != "TLSv1.3"]
    accepted = []
    for name in offered:
        try:
            ctx = _permissive_context(ssl.TLSVersion.TLSv1_2, f"{name}:@SECLEVEL=0")
            with handshake(target, ctx, timeout):
                accepted.append(name)
        except (ssl.SSLError, ConnectionError, OSError):
            continue
    return accepted


def plain_http_refused(target: Target, timeout: float = 5.0) -> bool:
    """Whether plain HTTP to the TLS port gets Go's 400 refusal."""
    with contextlib.closing(_connect(target, timeout)) as sock:
        sock.sendall(f"GET /api/v2/ping HTTP/1.0\r\nHost: {target.host}\r\n\r\n".encode())
        data = b""
        with contextlib.suppress(OSError):
            while chunk := sock.recv(4096):
                data += chunk
    text = data.decode(errors="replace")
    return text.startswith("HTTP/1.0 400") and PLAIN_HTTP_REFUSAL in text


def verify(target: Target, ca_file: str | None, timeout: float = 5.0) -> str | None:
    """None when chain and hostname verify against the CA file (or system store)."""
    ctx = ssl.create_default_context(cafile=ca_file)
    try:
        with handshake(target, ctx, timeout):
            return None
    except ssl.SSLCertVerificationError as exc:
        return exc.verify_message or str(exc)
    except ssl.SSLError as exc:
        return str(exc)


def _describe_cert(der: bytes) -> dict[str, object]:
    from cryptography import x509

    from runbook.certs import cert_sans, not_after

    cert = x509.load_der_x509_certificate(der)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "sans": [str(s) for s in cert_sans(cert) or []],
        "not_after": not_after(cert).isoformat(),
        "key": type(cert.public_key()).__name__.lstrip("_").replace("PublicKey", ""),
    }


def probe(url: str, *, ca_file: str | None = None, server_name: str | None = None,
          ciphers: bool = False, timeout: float = 5.0) -> ProbeResult:
    """Everything `runbook probe` reports about the server at `url`."""
    target = Target.from_url(url, server_name)
    result = ProbeResult(url=url)
    for name in VERSIONS:
        result.versions[name] = try_version(target, name, timeout)
    try:
        with handshake(target, _permissive_context(), timeout) as tls:
            result.negotiated_version = tls.version()
            result.cipher = tls.cipher()[0]
            der = tls.getpeercert(binary_form=True)
            if der:
                result.certificate = _describe_cert(der)
    except ssl.SSLError as exc:
        raise ProbeError(f"no TLS handshake with {target.host}:{target.port}: {exc}",
                         fix="is this port serving TLS? try: curl -v http://HOST:PORT/health",
                         host=target.host, port=target.port) from exc
    result.verify_error = verify(target, ca_file, timeout)
    result.verified = result.verify_error is None
    result.plain_http_refused = plain_http_refused(target, timeout)
    if ciphers:
        result.tls12_ciphers = tls12_ciphers_accepted(target, timeout)
    return result
