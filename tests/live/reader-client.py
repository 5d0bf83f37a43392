"""A reader's client: writes one point every 0.5 s to the bucket `app`,
for as long as it runs, and logs every attempt as a JSON line.

It prefers verified HTTPS: it trusts the files the Guide installs
(/etc/ssl/influxdb/ca.crt, and the self-signed server.crt before a CA
exists) and falls back to plain HTTP only while the server still speaks it.
Each point has its own timestamp, so a retry of the same point (HTTPS, then
HTTP) never stores it twice. SIGTERM ends it cleanly.

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


# Every certificate the client has been given stays trusted, as on a real
# client that holds a copy: when a page replaces server.crt on disk before
# restarting influxd, the server still serves the old one for a moment.
_trusted: dict[str, None] = {}


def _context() -> ssl.SSLContext | None:
    for path in TRUST:
        try:
            text = Path(path).read_text()
        except OSError:
            continue
        for block in text.split("-----END CERTIFICATE-----")[:-1]:
            _trusted.setdefault(block.strip() + "\n-----END CERTIFICATE-----\n")
    if not _trusted:
        return None
    ctx = ssl.create_default_context()
    for pem in _trusted:
        try:
            ctx.load_verify_locations(cadata=pem)
        except ssl.SSLError:
            continue
    return ctx


def _post(scheme: str, body: bytes, token: str) -> int:
    if scheme == "https":
        ctx = _context()
        if ctx is None:
            raise ConnectionError("no CA file yet")
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            "localhost", 8086, timeout=TIMEOUT_S, context=ctx)
    else:
        conn = http.client.HTTPConnection("localhost", 8086, timeout=TIMEOUT_S)
    try:
        conn.request("POST", PATH, body=body, headers={"Authorization": f"Token {token}"})
        return conn.getresponse().status
    finally:
        conn.close()


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
            result = {"seq": seq, "t": round(started, 3), "ok": False, "scheme": None, "err": []}
            for scheme in ("https", "http"):
                try:
                    status = _post(scheme, body, token)
                except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
                    result["err"].append(f"{scheme}: {type(exc).__name__}: {exc}"[:200])
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
