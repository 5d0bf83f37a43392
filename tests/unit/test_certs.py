"""Certificates: what they contain, how they are written, and that real
clients (Python's ssl over a real handshake, openssl verify) accept them."""

from __future__ import annotations

import os
import socket
import ssl
import stat
import subprocess
import threading

import pytest
from cryptography import x509

from runbook.errors import RefusingToOverwrite, UsageError
from runbook.tls import certs


def _serve_once(issued: certs.Issued, tmp_path) -> tuple[int, threading.Thread]:
    """A one-shot TLS server on loopback presenting `issued`."""
    cert, key = issued.write(tmp_path / "s.crt", tmp_path / "s.key")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        with listener:
            conn, _ = listener.accept()
            try:
                with ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (ssl.SSLError, OSError):
                pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return port, t


def _client_handshake(port: int, host: str, ca_pem: bytes) -> None:
    ctx = ssl.create_default_context(cadata=ca_pem.decode())
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock, \
            ctx.wrap_socket(sock, server_hostname=host) as tls:
        tls.sendall(b"x")


def test_ca_signed_leaf_verifies_in_a_real_handshake(tmp_path):
    ca = certs.CA.create()
    port, t = _serve_once(ca.issue(), tmp_path)
    _client_handshake(port, "localhost", ca.cert_pem())
    t.join(5)


def test_wrong_host_fails_verification(tmp_path):
    ca = certs.CA.create()
    port, t = _serve_once(ca.issue(["influxdb.example.test"]), tmp_path)
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        _client_handshake(port, "localhost", ca.cert_pem())
    t.join(5)


def test_untrusted_ca_fails_verification(tmp_path):
    port, t = _serve_once(certs.CA.create().issue(), tmp_path)
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"):
        _client_handshake(port, "localhost", certs.CA.create().cert_pem())
    t.join(5)


def test_self_signed_verifies_against_itself(tmp_path):
    issued = certs.self_signed()
    port, t = _serve_once(issued, tmp_path)
    _client_handshake(port, "127.0.0.1", issued.cert_pem())
    t.join(5)


@pytest.mark.parametrize("key_type", certs.KEY_TYPES)
def test_every_key_type_passes_openssl_verify(tmp_path, key_type):
    ca = certs.CA.create(key_type=key_type)
    ca.write(tmp_path / "ca.crt", tmp_path / "ca.key")
    ca.issue(key_type=key_type).write(tmp_path / "s.crt", tmp_path / "s.key")
    out = subprocess.run(["openssl", "verify", "-CAfile", tmp_path / "ca.crt", tmp_path / "s.crt"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith(": OK")


def test_rsa_modulus_digests_agree_like_the_guide_checks(tmp_path):
    certs.self_signed().write(tmp_path / "s.crt", tmp_path / "s.key")

    def digest(kind: str, path) -> str:
        mod = subprocess.run(["openssl", kind, "-noout", "-modulus", "-in", path],
                             capture_output=True, check=True).stdout
        return subprocess.run(["openssl", "md5"], input=mod, capture_output=True,
                              check=True).stdout.decode()

    assert digest("x509", tmp_path / "s.crt") == digest("rsa", tmp_path / "s.key")


def test_leaf_key_usage_has_digital_signature_and_server_auth():
    leaf = certs.CA.create().issue().cert
    ku = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.key_encipherment
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.SERVER_AUTH in eku


def test_ecdsa_leaf_has_no_key_encipherment():
    leaf = certs.CA.create().issue(key_type="p256").cert
    ku = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and not ku.key_encipherment


def test_default_sans_cover_local_names():
    assert certs.self_signed().sans == ["localhost", "127.0.0.1", "::1"]


def test_wildcard_covers_subdomains_and_the_domain():
    assert certs.wildcard(certs.CA.create(), "example.test").sans == ["*.example.test",
                                                                     "example.test"]


def test_private_key_is_0600_and_cert_0644_even_with_a_loose_umask(tmp_path):
    old = os.umask(0)
    try:
        c, k = certs.self_signed().write(tmp_path / "s.crt", tmp_path / "s.key")
    finally:
        os.umask(old)
    assert stat.S_IMODE(k.stat().st_mode) == 0o600
    assert stat.S_IMODE(c.stat().st_mode) == 0o644


def test_key_file_is_created_0600_before_any_byte(tmp_path, monkeypatch):
    """The mode at open() is what matters: watch every file created."""
    modes = []
    real_open = os.open

    def spy(path, flags, mode=0o777, *a, **kw):
        fd = real_open(path, flags, mode, *a, **kw)
        if flags & os.O_CREAT:
            modes.append((str(path), stat.S_IMODE(os.fstat(fd).st_mode), os.fstat(fd).st_size))
        return fd

    monkeypatch.setattr(os, "open", spy)
    certs.self_signed().write(tmp_path / "s.crt", tmp_path / "s.key")
    key_opens = [m for m in modes if "s.key" in m[0]]
    assert key_opens and all(mode == 0o600 and size == 0 for _, mode, size in key_opens)


def test_existing_files_are_never_overwritten_without_asking(tmp_path):
    (tmp_path / "s.key").write_text("precious")
    with pytest.raises(RefusingToOverwrite):
        certs.self_signed().write(tmp_path / "s.crt", tmp_path / "s.key")
    assert (tmp_path / "s.key").read_text() == "precious"
    assert not (tmp_path / "s.crt").exists()  # no half-written pair
    assert [p.name for p in tmp_path.iterdir()] == ["s.key"]  # no temp files left


def test_overwrite_when_asked(tmp_path):
    (tmp_path / "s.key").write_text("old")
    certs.self_signed().write(tmp_path / "s.crt", tmp_path / "s.key", overwrite=True)
    assert (tmp_path / "s.key").read_text().startswith("-----BEGIN PRIVATE KEY-----")


def test_passphrase_encrypts_the_key(tmp_path):
    _, k = certs.self_signed().write(tmp_path / "s.crt", tmp_path / "s.key", passphrase=b"pw")
    assert k.read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")


def test_validity_days_are_honoured():
    issued = certs.self_signed(days=10)
    span = certs.not_after(issued.cert) - certs.not_before(issued.cert)
    assert span.days == 10  # 10 days plus the 5-minute backdating


@pytest.mark.parametrize("bad", [0, -1, 40000])
def test_out_of_range_days_is_a_usage_error(bad):
    with pytest.raises(UsageError, match="days"):
        certs.self_signed(days=bad)


def test_unknown_key_type_names_the_choices():
    with pytest.raises(UsageError, match="unknown key type") as exc:
        certs.generate_key("dsa1024")
    assert "rsa2048" in exc.value.fix


def test_self_signed_names_its_own_key_as_the_authority():
    # Without the AKI, cryptography's validator (sslyze's) refuses the leaf:
    # "2.5.29.35: Certificate is missing required extension".
    from cryptography import x509

    cert = certs.self_signed().cert
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ski.digest
