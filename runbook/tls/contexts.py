"""The one place that builds ssl.SSLContext objects.

tls_context is every verifying client (probe, grade, wait, the InfluxDB
client, the lab's bench); permissive_context is the probe's and the scan's
client that offers anything, to see what a server accepts; python_default is
Python's stock client, exactly what a reader's script gets (the trust matrix
reports it as one of the clients).
"""

from __future__ import annotations

import os
import ssl
import warnings

from runbook.errors import InputError
from runbook.files import read_input


def tls_context(ca_file: str | os.PathLike[str] | None = None, *, insecure: bool = False,
                version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    """The one TLS client context: verifies chain and hostname against `ca_file`
    (read as a bounded regular file) or the system store; `insecure` skips
    verification (self-signed only); `version` pins one TLS version."""
    if insecure:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif ca_file is None:
        ctx = ssl.create_default_context()
    else:
        data = read_input(ca_file, "CA file")
        if b"-----BEGIN CERTIFICATE-----" not in data and data[:1] != b"\x30":
            raise InputError(f"CA file {ca_file} holds no certificate",
                             fix="point at the CA certificate (-----BEGIN CERTIFICATE-----)",
                             path=str(ca_file))
        try:
            ctx = ssl.create_default_context(
                cadata=data.decode("latin-1") if b"-----BEGIN" in data else data)
        except (ssl.SSLError, ValueError) as exc:
            raise InputError(f"CA file {ca_file} holds no usable certificate: "
                             f"{getattr(exc, 'reason', None) or exc}",
                             fix="point at the CA certificate (-----BEGIN CERTIFICATE-----)",
                             path=str(ca_file)) from exc
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = version
    # Go clients (Telegraf, the influx CLI) match names against SANs only; so do we.
    ctx.hostname_checks_common_name = False
    return ctx


def permissive_context(version: ssl.TLSVersion | None = None,
                        ciphers: str = "ALL:@SECLEVEL=0") -> ssl.SSLContext:
    """A client that offers anything, TLS 1.0 included (Python's own floor is
    1.2, and OpenSSL's security level 1 refuses 1.0/1.1: @SECLEVEL=0 lifts both)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers(ciphers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = version or ssl.TLSVersion.TLSv1
        if version is not None:
            ctx.maximum_version = version
    return ctx


def python_default(cafile: str | os.PathLike[str]) -> ssl.SSLContext:
    """ssl.create_default_context(cafile=...): Python's own defaults, common-name
    fallback included, so the trust matrix shows what a stock script does."""
    return ssl.create_default_context(cafile=os.fspath(cafile))
