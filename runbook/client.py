"""A minimal InfluxDB v2 HTTP(S) client on the standard library.

TLS is verified against a CA file unless the caller explicitly asks for
`insecure=True` (self-signed certificates only).
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from runbook.errors import ServerError, ServerUnreachable, UsageError
from runbook.tls.contexts import tls_context


@dataclass
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise ServerError(f"the server answered HTTP {self.status} with a body that is not "
                              f"JSON: {self.body[:80]!r}", fix="is this URL an InfluxDB v2?"
                              ) from exc


@dataclass
class InfluxClient:
    url: str
    token: str | None = None
    ca_file: str | None = None
    insecure: bool = False
    timeout: float = 10.0

    def request(self, method: str, path: str, *, body: bytes | None = None,
                params: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> Response:
        """One request; HTTP error statuses are returned, no answer is ServerUnreachable."""
        url = self.url.rstrip("/") + path + (f"?{urlencode(params)}" if params else "")
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"{self.url} is not an http:// or https:// URL",
                             fix="e.g. https://localhost:8086", url=self.url)
        req = urllib.request.Request(url, data=body, method=method,  # noqa: S310 - scheme checked
                                     headers=headers or {})
        if self.token:
            req.add_header("Authorization", f"Token {self.token}")
        ctx = (tls_context(self.ca_file, insecure=self.insecure) if url.startswith("https")
               else None)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout,  # noqa: S310
                                        context=ctx) as resp:
                return Response(resp.status, resp.read())
        except urllib.error.HTTPError as exc:
            return Response(exc.code, exc.read())
        except (urllib.error.URLError, ssl.SSLError, OSError, http.client.HTTPException,
                ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise ServerUnreachable(f"{method} {self.url}{path}: no answer: {reason}",
                                    fix="is influxd running there, with TLS as the URL says? "
                                        "runbook probe URL shows what it serves",
                                    url=self.url) from exc

    def ping(self) -> bool:
        # /ping, not /api/v2/ping: in 2.9.1 the latter is not a route (401
        # without a token, 404 with one).
        return self.request("GET", "/ping").status == 204

    def setup(self, *, org: str, bucket: str, username: str, password: str,
              token: str | None = None) -> str:
        """Onboard a fresh server; returns the operator token."""
        payload = {"username": username, "password": password, "org": org, "bucket": bucket}
        if token:
            payload["token"] = token
        resp = self.request("POST", "/api/v2/setup", body=json.dumps(payload).encode(),
                            headers={"Content-Type": "application/json"})
        if resp.status != 201:
            raise ServerError(f"onboarding failed: HTTP {resp.status}: {resp.body[:200]!r}",
                              fix="a server can be onboarded once; use a fresh data volume")
        try:
            return str(resp.json()["auth"]["token"])
        except (KeyError, TypeError) as exc:
            raise ServerError(f"onboarding answered without a token: {resp.body[:200]!r}",
                              fix="is this URL an InfluxDB v2?") from exc

    def write(self, lines: str, *, org: str, bucket: str, precision: str = "ns") -> None:
        resp = self.request("POST", "/api/v2/write", body=lines.encode(),
                            params={"org": org, "bucket": bucket, "precision": precision},
                            headers={"Content-Type": "text/plain; charset=utf-8"})
        if resp.status != 204:
            raise ServerError(f"write failed: HTTP {resp.status}: {resp.body[:200]!r}")

    def query(self, flux: str, *, org: str) -> list[dict[str, str]]:
        """Rows of a Flux query's annotated CSV, as dicts (annotations dropped)."""
        resp = self.request("POST", "/api/v2/query", body=flux.encode(), params={"org": org},
                            headers={"Content-Type": "application/vnd.flux",
                                     "Accept": "application/csv"})
        if resp.status != 200:
            raise ServerError(f"query failed: HTTP {resp.status}: {resp.body[:300]!r}")
        rows: list[dict[str, str]] = []
        header: list[str] | None = None
        for record in csv.reader(io.StringIO(resp.body.decode())):
            if not record or record[0].startswith("#"):
                header = None if not record else header
                continue
            if header is None:
                header = record
                continue
            rows.append(dict(zip(header, record, strict=False)))
        return rows
