"""Hostile material for the CLI corpus: odd files, bad certificates, misbehaving servers.

Everything is made here, real: FIFOs, symlink loops, sparse giant files,
DSA and SHA-1 certificates, and TCP servers on loopback that accept and
never answer, never accept, reset, or answer with something that is not TLS.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ed25519, rsa

from runbook.files import write_private, write_public
from runbook.tls import certs

NOW = dt.datetime.now(dt.UTC)


def make_cert(key, *, issuer: certs.CA | None = None, cn: str = "localhost",
              ca: bool = False, days: tuple[int, int] = (-1, 30), ski: bool = True,
              extensions: list[x509.ExtensionType] | None = None,
              sans: bool = True) -> x509.Certificate:
    """A certificate with exactly the defect a case needs, from runbook's one
    factory: no key usage and no AKI unless a case adds them."""
    return certs.make_certificate(
        key, cn, issuer=issuer, ca=ca, key_usage=None, aki=False, ski=ski,
        sans=("localhost",) if sans and not ca else None, extensions=extensions,
        validity=(NOW + dt.timedelta(days=days[0]), NOW + dt.timedelta(days=days[1])))


def write_pair(folder: Path, stem: str, cert: x509.Certificate, key) -> tuple[Path, Path]:
    key_path = write_private(folder / f"{stem}.key", certs.key_pem(key), overwrite=True)
    cert_path = write_public(folder / f"{stem}.crt", certs.cert_pem(cert), overwrite=True)
    return cert_path, key_path


def build_files(root: Path) -> None:
    """Every file the corpus names, under `root`."""
    ca = certs.CA.create()
    ca.write(root / "ca.crt", root / "ca.key")
    ca.issue().write(root / "server.crt", root / "server.key")
    certs.self_signed().write(root / "self.crt", root / "self.key")

    os.mkfifo(root / "fifo")
    (root / "loop").symlink_to(root / "loop")
    (root / "dir").mkdir()
    (root / "a file").write_text("not a folder\n")
    (root / "empty").write_bytes(b"")
    (root / "binary").write_bytes(bytes(range(256)) * 64)
    (root / "weird\nname.crt").write_bytes((root / "server.crt").read_bytes())
    (root / "ünïcødé.key").write_bytes((root / "server.key").read_bytes())
    (root / "ünïcødé.key").chmod(0o600)
    with open(root / "giant.log", "wb") as fh:  # sparse: 20 MB that cost nothing
        fh.truncate(20 * 1024 * 1024)
    with open(root / "giant.crt", "wb") as fh:
        fh.truncate(2 * 1024 * 1024)
    (root / "begins.crt").write_bytes(b"-----BEGIN CERTIFICATE-----\n" * 20_000)
    (root / "nested.toml").write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    (root / "long.log").write_text("x509: certificate is valid for " + "x, not " * 200_000 + "\n")

    # Keys and certificates influxd or its clients refuse.
    dsa_key = dsa.generate_private_key(2048)
    write_pair(root, "dsa", make_cert(dsa_key), dsa_key)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the defect
    write_pair(root, "rsa1024", make_cert(small), small)
    # cryptography no longer signs with SHA-1; openssl still does, as old tooling did.
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-sha1", "-nodes",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-days", "30", "-keyout", root / "sha1.key", "-out", root / "sha1.crt"],
                   capture_output=True, check=True)
    old_ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    old_ca = make_cert(old_ca_key, cn="expired CA", ca=True, days=(-400, -1))
    write_pair(root, "expired-ca", old_ca, old_ca_key)
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write_pair(root, "under-expired", make_cert(leaf_key, issuer=certs.CA(old_ca, old_ca_key),
                                                days=(-10, 300)),
               leaf_key)
    noski_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write_pair(root, "noski-ca", make_cert(noski_key, cn="CA without SKI", ca=True, ski=False),
               noski_key)
    ed_key = ed25519.Ed25519PrivateKey.generate()
    write_pair(root, "ed25519-ca", make_cert(ed_key, cn="Ed25519 CA", ca=True), ed_key)
    bad_san = x509.UnrecognizedExtension(x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
                                         b"\x30\x03\x82\x05")  # a DNSName longer than its SEQUENCE
    malformed_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write_pair(root, "bad-san", make_cert(malformed_key, sans=False, extensions=[bad_san]),
               malformed_key)
    (root / "secp112r1.key").write_bytes(subprocess.run(
        ["openssl", "ecparam", "-name", "secp112r1", "-genkey", "-noout"],
        capture_output=True, check=True).stdout)
    (root / "other.key").write_bytes(certs.key_pem(certs.CA.create().key))
    # A certificate file that also holds its key, world-readable (issue 28, defect 3).
    (root / "with-key.crt").write_bytes((root / "server.crt").read_bytes()
                                        + (root / "server.key").read_bytes())
    (root / "with-key.crt").chmod(0o644)

    # Telegraf configs in every shape Telegraf refuses or misreads.
    shapes = {
        "single-table": '[outputs.influxdb_v2]\nurls = ["https://h:8086"]\n',
        "outputs-string": 'outputs = "x"\n',
        "urls-int": "[[outputs.influxdb_v2]]\nurls = 5\n",
        "urls-ints": "[[outputs.influxdb_v2]]\nurls = [1, 2]\n",
        "urls-string": '[[outputs.influxdb_v2]]\nurls = "https://h:8086"\n',
        "skip-string": ('[[outputs.influxdb_v2]]\nurls = ["https://h"]\n'
                        'insecure_skip_verify = "yes"\n'),
        "plugin-int": "[outputs]\ninfluxdb_v2 = 3\n",
        "not-toml": "[[outputs.influxdb_v2\nurls = \n",
        "http": '[[outputs.influxdb_v2]]\nurls = ["http://h:8086"]\ntls_ca = "ca.crt"\n',
        "good": '[[outputs.influxdb_v2]]\nurls = ["https://h:8086"]\ntls_ca = "ca.crt"\n',
    }
    # What Telegraf 1.39.3 does with these (issue 28, defect 8): no urls or urls = []
    # writes plain HTTP to localhost:8086; any case of http:// is plain HTTP; a
    # leading space stops the output; a byte order mark is skipped.
    shapes.update({
        "no-urls": '[[outputs.influxdb_v2]]\ntls_ca = "ca.crt"\n',
        "urls-empty": '[[outputs.influxdb_v2]]\nurls = []\ntls_ca = "ca.crt"\n',
        "http-upper": '[[outputs.influxdb_v2]]\nurls = ["HTTP://h:8086"]\ntls_ca = "ca.crt"\n',
        "url-space": '[[outputs.influxdb_v2]]\nurls = [" http://h:8086"]\ntls_ca = "ca.crt"\n',
        "bom-good": '\ufeff[[outputs.influxdb_v2]]\nurls = ["https://h:8086"]\n'
                    'tls_ca = "ca.crt"\n',
    })
    for name, text in shapes.items():
        (root / f"{name}.toml").write_text(text, encoding="utf-8")

    # A certbot lineage and a site folder for deploy-hook's option checks.
    (root / "lineage").mkdir()
    (root / "lineage" / "fullchain.pem").write_bytes((root / "server.crt").read_bytes())
    (root / "lineage" / "privkey.pem").write_bytes((root / "server.key").read_bytes())
    (root / "dest").mkdir()

    # Logs: a symptom wrapped in terminal escapes; 15 MiB of matching lines.
    (root / "escapes.log").write_bytes(b"\x1b[31m\x1b]0;owned\x07tls: failed to parse private "
                                       b"key\x1b[0m\x1b[2J\r\n")
    line = b"tls: failed to parse private key\n"
    (root / "matches.log").write_bytes(line * (15 * 1024 * 1024 // len(line)))


class Servers:
    """TCP servers on loopback that misbehave in one way each, until close()."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self.silent = self._serve(self._hold)  # accepts, never says a word
        self.reset = self._serve(self._reset)  # accepts, then RST
        self.plain_http = self._serve(self._http)  # answers HTTP, not TLS
        self.never_accept = self._listen_only()  # the kernel completes the TCP handshake
        self._tls = self._trickle_tls_context()
        # TLS handshakes complete; anything else gets an HTTP answer, a byte a second
        self.trickle = self._serve(self._trickle, threaded=True)
        self.slow_tls = self._serve(self._slow_tls, threaded=True)  # each handshake: 0.5 s late
        with contextlib.closing(socket.socket()) as s:  # a port nothing listens on
            s.bind(("127.0.0.1", 0))
            self.closed = s.getsockname()[1]

    def _listen_only(self) -> int:
        s = socket.create_server(("127.0.0.1", 0), backlog=1)
        self._sockets.append(s)
        return int(s.getsockname()[1])

    @staticmethod
    def _trickle_tls_context() -> ssl.SSLContext:
        issued = certs.self_signed(["localhost"])
        with tempfile.TemporaryDirectory() as d:
            cert, key = issued.write(Path(d) / "t.crt", Path(d) / "t.key")
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
        return ctx

    def _serve(self, handler, threaded: bool = False) -> int:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.1)
        self._sockets.append(listener)

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    conn, _ = listener.accept()
                except (TimeoutError, OSError):
                    continue
                self._sockets.append(conn)
                if threaded:
                    threading.Thread(target=handler, args=(conn,), daemon=True).start()
                else:
                    handler(conn)

        t = threading.Thread(target=loop, daemon=True)
        t.start()
        self._threads.append(t)
        return int(listener.getsockname()[1])

    def _hold(self, conn: socket.socket) -> None:
        pass  # kept open in self._sockets, never read, never written

    def _reset(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    def _http(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.settimeout(1)
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
        conn.close()

    def _trickle(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            conn.settimeout(5)
            if conn.recv(1, socket.MSG_PEEK) == b"\x16":  # a TLS ClientHello
                tls = self._tls.wrap_socket(conn, server_side=True)
                self._sockets.append(tls)
                tls.recv(1)  # a TLS client that only shakes hands closes here
                conn = tls
            answer = b"HTTP/1.0 400 Bad Request\r\n\r\n" + b"." * 100_000
            for byte in answer:
                if self._stop.wait(1.0):
                    return
                conn.sendall(bytes([byte]))

    def _slow_tls(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            if self._stop.wait(0.5):
                return
            conn.settimeout(5)
            tls = self._tls.wrap_socket(conn, server_side=True)
            self._sockets.append(tls)
            tls.recv(1)

    def close(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(2)
        for s in self._sockets:
            with contextlib.suppress(OSError):
                s.close()


@contextlib.contextmanager
def servers() -> Iterator[Servers]:
    s = Servers()
    try:
        yield s
    finally:
        s.close()
