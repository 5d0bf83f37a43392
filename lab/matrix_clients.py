"""The trust matrix's clients: one per TLS stack, each asked to verify one server.

Every client gets the same three things: a host name and port to connect to,
and a CA file to trust (given the way that client takes one). It reports
"accepted" (a verified handshake, and for HTTP clients an answer) or the
first line of its own error, as a user would see it. Ports, paths and
times in errors are replaced by PORT, DIR and TIME so runs compare.
"""

from __future__ import annotations

import os
import re
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lab.image import BUILD_CACHE, pinned
from runbook.tls.contexts import python_default

TIMEOUT = 30.0  # seconds per client run; a local handshake takes milliseconds
BIN_DIR = BUILD_CACHE / "bin"
CHROMIUM = os.environ.get("RUNBOOK_CHROMIUM", "/usr/bin/chromium")


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    trust: Path  # the CA file the client is told to trust
    workdir: Path  # scratch space for this client and this server

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"


@dataclass(frozen=True)
class Outcome:
    accepted: bool
    error: str = ""  # the client's own words when it refused


def normalise(text: str, t: Target) -> str:
    text = text.replace(str(t.workdir), "DIR").replace(f":{t.port}", ":PORT")
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", "TIME", text)
    text = re.sub(r"127\.0\.0\.1:\d{4,5}(?=\D|$)", "127.0.0.1:PORT", text)
    text = re.sub(r"^TIME [EWID]! ", "", text.strip())  # Telegraf's log prefix
    return " ".join(text.split())


def _run(cmd: list[str], env: dict[str, str] | None = None,
         stdin: int | None = subprocess.DEVNULL) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, stdin=stdin, capture_output=True, text=True,  # noqa: S603
                          timeout=TIMEOUT, env={**os.environ, **(env or {})})


def _first(lines: str, *needles: str) -> str:
    """The first line holding one of `needles`, else the last non-empty line."""
    rows = [r for r in lines.splitlines() if r.strip()]
    for row in rows:
        if any(n in row for n in needles):
            return row
    return rows[-1] if rows else "(no output)"


def curl(t: Target) -> Outcome:
    p = _run(["curl", "--silent", "--show-error", "--output", "/dev/null", "--cacert",
              str(t.trust), f"{t.url}/health"])
    return Outcome(True) if p.returncode == 0 else Outcome(False, _first(p.stderr, "curl:"))


def python_ssl(t: Target) -> Outcome:
    ctx = python_default(t.trust)
    try:
        with urllib.request.urlopen(f"{t.url}/health", context=ctx, timeout=TIMEOUT):  # noqa: S310
            return Outcome(True)
    except urllib.error.URLError as exc:
        return Outcome(False, str(exc.reason))
    except (ssl.SSLError, OSError) as exc:
        return Outcome(False, str(exc))


def influx_cli(t: Target) -> Outcome:
    binary = BIN_DIR / f"influx-{pinned('INFLUX_CLI_VERSION', '')}"
    p = _run([str(binary), "ping", "--host", t.url], env={"SSL_CERT_FILE": str(t.trust),
                                                          "INFLUX_CONFIGS_PATH":
                                                          str(t.workdir / "influx-configs")})
    return Outcome(True) if p.returncode == 0 else Outcome(False, _first(p.stderr, "Error"))


def telegraf(t: Target) -> Outcome:
    binary = BIN_DIR / f"telegraf-{pinned('TELEGRAF_VERSION', '')}"
    conf = t.workdir / "telegraf.conf"
    conf.write_text(
        "[agent]\n  omit_hostname = true\n[[inputs.mem]]\n[[outputs.influxdb_v2]]\n"
        f'  urls = ["{t.url}"]\n  token = "matrix-token"\n  organization = "matrix"\n'
        f'  bucket = "matrix"\n  tls_ca = "{t.trust}"\n')
    p = _run([str(binary), "--config", str(conf), "--once"])
    out = p.stdout + p.stderr
    if p.returncode == 0 and "E! " not in out:
        return Outcome(True)
    return Outcome(False, _first(out, "E! [outputs", "E! "))


def gnutls(t: Target) -> Outcome:
    p = _run(["gnutls-cli", "--x509cafile", str(t.trust), "--port", str(t.port), t.host])
    out = p.stdout + p.stderr
    if p.returncode == 0 and "Handshake was completed" in out:
        return Outcome(True)
    return Outcome(False, _first(out, "- Status:", "*** Fatal", "*** Error"))


def _nss_db(t: Target) -> Path:
    """An NSS database that trusts t.trust as a CA (what Chromium reads on Linux too)."""
    db = t.workdir / "nssdb"
    db.mkdir(parents=True, exist_ok=True)
    if not (db / "cert9.db").exists():
        for cmd in (["certutil", "-N", "--empty-password", "-d", f"sql:{db}"],
                    ["certutil", "-A", "-n", "matrix-trust", "-t", "C,,", "-i", str(t.trust),
                     "-d", f"sql:{db}"]):
            p = _run(cmd)
            if p.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)}: {p.stderr.strip()}")
    return db


def nss(t: Target) -> Outcome:
    db = _nss_db(t)
    # -4: the servers publish on 127.0.0.1 only, and localhost resolves to ::1 first.
    p = _run(["tstclnt", "-4", "-h", t.host, "-p", str(t.port), "-d", f"sql:{db}", "-Q"],
             stdin=subprocess.DEVNULL)
    out = p.stdout + p.stderr
    if p.returncode == 0:
        return Outcome(True)
    return Outcome(False, _first(out, "SEC_ERROR", "SSL_ERROR", "PR_"))


NODE_SCRIPT = """
const fs = require('fs'), https = require('https')
const [host, port, ca] = process.argv.slice(1)
https.get({host, port, path: '/health', ca: fs.readFileSync(ca)}, (res) => {
  res.resume(); res.on('end', () => console.log('accepted'))
}).on('error', (e) => { console.log(`${e.code}: ${e.message}`); process.exit(1) })
"""


def node(t: Target) -> Outcome:
    p = _run(["node", "-e", NODE_SCRIPT, t.host, str(t.port), str(t.trust)])
    if p.returncode == 0 and "accepted" in p.stdout:
        return Outcome(True)
    return Outcome(False, _first(p.stdout + p.stderr, ":"))


NETWORK_CHANGED_RETRIES = 2


def chromium(t: Target) -> Outcome:
    """Debian's chromium through Playwright, trusting t.trust via its NSS database."""
    from playwright.sync_api import Error, sync_playwright

    home = t.workdir / "chromium-home"
    (home / ".pki").mkdir(parents=True, exist_ok=True)
    db = _nss_db(t)
    nssdb = home / ".pki" / "nssdb"
    if not nssdb.exists():
        shutil.copytree(db, nssdb)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, env={**os.environ, "HOME": str(home)},
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        try:
            page = browser.new_page()
            retries = NETWORK_CHANGED_RETRIES
            while True:
                try:
                    response = page.goto(f"{t.url}/health", timeout=TIMEOUT * 1000)
                    return Outcome(True) if response is not None else Outcome(False, "no response")
                except Error as exc:
                    # Chromium aborts a load when the machine's interfaces change
                    # (Docker adding a veth for another container): not a verdict on
                    # the certificate, so ask again; every other error is one.
                    if "net::ERR_NETWORK_CHANGED" in str(exc) and retries > 0:
                        retries -= 1
                        continue
                    return Outcome(False, _first(str(exc), "net::"))
        finally:
            browser.close()


Client = Callable[[Target], Outcome]
# (id, TLS stack shown on the page, function)
CLIENTS: tuple[tuple[str, str, Client], ...] = (
    ("curl", "OpenSSL", curl),
    ("python", "OpenSSL", python_ssl),
    ("influx-cli", "Go", influx_cli),
    ("telegraf", "Go", telegraf),
    ("gnutls-cli", "GnuTLS", gnutls),
    ("nss-tstclnt", "NSS", nss),
    ("node", "OpenSSL (Node)", node),
    ("chromium", "Chromium (BoringSSL, own verifier)", chromium),
)
