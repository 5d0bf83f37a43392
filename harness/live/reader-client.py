"""A reader's client: writes one point every 0.5 s to the bucket `app`,
for as long as it runs, and logs every attempt as a JSON line.

It prefers verified HTTPS: it trusts the CA the Guide installs
(/etc/ssl/influxdb/ca.crt) and the self-signed server.crt, as they are at
each connection, and the certificate it last verified; it falls back to
plain HTTP only while the server still speaks it. So its outages are the
server's: not answering, or serving a certificate no client could trust.
Each point has its own timestamp, so a retry of the same point (HTTPS, then
HTTP) never stores it twice. A write sent in full whose answer never came
(influxd stopping) is logged as `maybe`: the server may have stored it.
SIGTERM ends it cleanly.

    python3 reader-client.py LOG
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import ssl
import sys
import time
from pathlib import Path

TRUST = ("/etc/ssl/influxdb/ca.crt", "/etc/ssl/influxdb/server.crt")
TOKEN_FILE = "/root/.app-token"
PERIOD_S = 0.5
TIMEOUT_S = 2.0
PATH = "/api/v2/write?org=runbook&bucket=app&precision=ns"


# The server certificate the client last verified, as PEM: a client keeps
# trusting what it has while a page replaces files ahead of a restart.
_pinned: list[str] = []
_pinned_contexts: dict[str, ssl.SSLContext] = {}  # its context, made once


def _contexts() -> list[ssl.SSLContext]:
    """What the client trusts, in order: the files the Guide installs as they
    are now (the CA, and the self-signed server.crt; read at each connection,
    as `curl --cacert` does), then the certificate it last verified. In
    separate contexts: OpenSSL tries only the first of two self-signed
    certificates with the same subject, so an old and a new self-signed
    `localhost` in one store fail for the newer one."""
    found = []
    current = _verifying_context()
    loaded = False
    for path in TRUST:
        try:
            current.load_verify_locations(cafile=path)
            loaded = True
        except (OSError, ssl.SSLError):  # absent, or being rewritten: the next attempt
            continue
    if loaded:
        found.append(current)
    for pem in _pinned:
        if pem not in _pinned_contexts:
            _pinned_contexts.clear()
            _pinned_contexts[pem] = _verifying_context()
            _pinned_contexts[pem].load_verify_locations(cadata=pem)
        found.append(_pinned_contexts[pem])
    return found


def _verifying_context() -> ssl.SSLContext:
    """A context that verifies the server's certificate and name against
    what it is given only. Not ssl.create_default_context(): that also loads
    the system's CA store (22 ms of CPU here, twice a second for the whole
    journey), and no public CA signs this server's certificate."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class SentNoAnswer(ConnectionError):
    """The whole request went out, then the connection failed before an
    answer: the server may have stored the point (it was shutting down)."""


def _request(conn: http.client.HTTPConnection, body: bytes, token: str) -> int:
    try:
        conn.request("POST", PATH, body=body, headers={"Authorization": f"Token {token}"})
        if isinstance(conn.sock, ssl.SSLSocket):
            der = conn.sock.getpeercert(binary_form=True)
            if der:
                _pinned[:] = [ssl.DER_cert_to_PEM_cert(der)]
        try:
            return conn.getresponse().status
        except (OSError, http.client.HTTPException) as exc:
            raise SentNoAnswer(f"{type(exc).__name__}: {exc}") from None
    finally:
        conn.close()


def _post(scheme: str, body: bytes, token: str) -> int:
    if scheme == "http":
        return _request(http.client.HTTPConnection("localhost", 8086, timeout=TIMEOUT_S),
                        body, token)
    contexts = _contexts()
    if not contexts:
        raise ConnectionError("no CA file yet")
    for ctx in contexts[:-1]:
        try:
            return _request(http.client.HTTPSConnection("localhost", 8086, timeout=TIMEOUT_S,
                                                        context=ctx), body, token)
        except ssl.SSLCertVerificationError:
            continue
    return _request(http.client.HTTPSConnection("localhost", 8086, timeout=TIMEOUT_S,
                                                context=contexts[-1]), body, token)


def main(log_path: str) -> None:
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    token = Path(TOKEN_FILE).read_text().strip()
    seq = 0
    next_at = time.monotonic()
    with open(log_path, "a", buffering=1) as log:
        while not stop:
            seq += 1
            started = time.time()
            body = f"app,client=reader seq={seq}i {time.time_ns()}".encode()
            result = {"seq": seq, "t": round(started, 3), "ok": False, "scheme": None, "err": [],
                      "maybe": False}
            for scheme in ("https", "http"):
                try:
                    status = _post(scheme, body, token)
                except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
                    result["err"].append(f"{scheme}: {type(exc).__name__}: {exc}"[:200])
                    result["maybe"] |= isinstance(exc, SentNoAnswer)
                    continue
                if status == 204:
                    result.update(ok=True, scheme=scheme)
                    break
                result["err"].append(f"{scheme}: HTTP {status}")
            result["s"] = round(time.time() - started, 3)
            log.write(json.dumps(result) + "\n")
            next_at += PERIOD_S
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # the client's own pace: one point per period
            else:
                next_at = time.monotonic()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1])
