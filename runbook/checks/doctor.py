"""Map an influxd log line or a client's error to its cause and its fix.

The literal strings here are the ones operators meet; the troubleshooting
page has a heading per entry and a test keeps the two in step.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

JSON_DIAGNOSES = 1000  # matching lines `doctor --json` reports at most

TROUBLESHOOT_PAGE = "troubleshoot.md"
LINE_LIMIT = 8192  # characters of a line that are matched: log lines are short; this bounds
# the regular expressions' work on a hostile one


@dataclass(frozen=True)
class Symptom:
    id: str
    pattern: str  # a regular expression, matched case-insensitively
    example: str  # a real line that it matches (tested)
    cause: str
    fix: str
    section: str  # anchor on the troubleshooting page (or on `page`)
    page: str = TROUBLESHOOT_PAGE

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


SYMPTOMS: tuple[Symptom, ...] = (
    Symptom(
        "key-pair-load-failed", r"failed to load x509 key pair",
        'msg="Failed to load x509 key pair" cert-path=/etc/ssl/influxdb.crt '
        "key-path=/etc/ssl/influxdb.key",
        "influxd could not read or parse the certificate/key pair: wrong path, unreadable "
        "file, encrypted key, or a key that does not match the certificate",
        "read the 'Error:' line that follows, or run: runbook check --cert CERT --key KEY",
        "failed-to-load-x509-key-pair"),
    Symptom(
        "key-cert-mismatch", r"private key does not match public key",
        "Error: tls: private key does not match public key",
        "the key file holds another key than the one the certificate was issued for",
        "find the matching key (compare public keys, see 'Check that certificate and key "
        "belong together'), or reissue the certificate for this key",
        "tls-private-key-does-not-match-public-key"),
    Symptom(
        "file-not-found", r"open \S+: no such file or directory",
        "Error: open /etc/ssl/influxdb/nope.crt: no such file or directory",
        "tls-cert or tls-key names a file that does not exist (inside a container: a path "
        "that is not mounted)",
        "fix the path; influxd print-config --key-name tls-cert shows the one in use",
        "open-no-such-file-or-directory"),
    Symptom(
        "unknown-authority",
        r"x509: certificate signed by unknown authority|unable to get local issuer certificate"
        r"|self[- ]signed certificate",
        "tls: failed to verify certificate: x509: certificate signed by unknown authority",
        "the client does not trust the CA that signed the server certificate",
        "give the client the CA file: curl --cacert ca.crt, Telegraf tls_ca = \"ca.crt\"",
        "x509-certificate-signed-by-unknown-authority"),
    Symptom(
        "hostname-mismatch",
        r"certificate is valid for .*, not \S+|no alternative certificate subject name matches"
        r"|Hostname mismatch|hostname mismatch",
        "x509: certificate is valid for example.com, www.example.com, not localhost",
        "the name the client connects to is not among the certificate's SANs",
        "connect with a name the certificate lists, or reissue it with that name in "
        "subjectAltName",
        "certificate-is-valid-for-x-not-y"),
    Symptom(
        "expired", r"certificate has expired|certificate has expired or is not yet valid",
        "x509: certificate has expired or is not yet valid: current time 2026-11-28T10:00:00Z "
        "is after 2026-11-27T10:00:00Z",
        "the certificate's validity period has ended (or the clock is wrong)",
        "issue a new certificate, then restart influxd (no reload)",
        "certificate-has-expired-or-is-not-yet-valid"),
    Symptom(
        "unsupported-tls-version", r"unsupported TLS version",
        'Error: unsupported TLS version: 1.4',
        "tls-min-version has a value influxd does not know",
        "use 1.0, 1.1, 1.2 (default) or 1.3",
        "unsupported-tls-version"),
    Symptom(
        "client-too-old",
        r"client offered only unsupported versions|protocol version|unsupported protocol",
        'msg="http: TLS handshake error from 127.0.0.1:51234: tls: client offered only '
        'unsupported versions: [302]"',
        "a client tried a TLS version below tls-min-version",
        "upgrade the client; lower tls-min-version only if you must (1.0/1.1 are unsafe)",
        "tls-client-offered-only-unsupported-versions"),
    Symptom(
        "no-shared-cipher", r"no cipher suite supported by both|handshake failure",
        'msg="http: TLS handshake error from 127.0.0.1:51236: tls: no cipher suite supported '
        'by both client and server"',
        "with tls-strict-ciphers the server accepts only ECDHE with AES-GCM or ChaCha20",
        "let the client offer a strict suite (any modern client does), or use TLS 1.3",
        "tls-no-cipher-suite-supported-by-both-client-and-server"),
    Symptom(
        "client-rejected-cert", r"remote error: tls: (bad certificate|unknown certificate"
        r" authority|illegal parameter)",
        'msg="http: TLS handshake error from [::1]:50476: remote error: tls: bad certificate"',
        "the client aborted the handshake because it does not accept the server certificate",
        "look at the client's own error; usually unknown authority or a hostname mismatch",
        "remote-error-tls-bad-certificate"),
    Symptom(
        "plain-http-to-https", r"Client sent an HTTP request to an HTTPS server|"
        r"first record does not look like a TLS handshake",
        "Client sent an HTTP request to an HTTPS server.",
        "a client used http:// against the TLS port",
        "switch the client's URL to https:// (Telegraf urls, INFLUX_HOST, curl)",
        "client-sent-an-http-request-to-an-https-server"),
    Symptom(
        "https-to-plain-http", r"wrong version number|http: server gave HTTP response to HTTPS",
        "curl: (35) OpenSSL/3.0.x: error:0A00010B:SSL routines::wrong version number",
        "an https:// client reached an influxd serving plain HTTP: TLS is not enabled",
        "check that both tls-cert and tls-key are set; the log says 'falling back to HTTP'",
        "wrong-version-number"),
    Symptom(
        "tls-half-configured", r"TLS requires specifying both cert and key",
        'msg="TLS requires specifying both cert and key, falling back to HTTP"',
        "only one of tls-cert and tls-key is set, so influxd serves plain HTTP",
        "set both --tls-cert and --tls-key (or both INFLUXD_TLS_* variables)",
        "tls-requires-specifying-both-cert-and-key"),
    Symptom(
        "permission-denied", r"permission denied",
        "open /etc/ssl/influxdb.key: permission denied",
        "the user running influxd cannot read the file",
        "chown influxdb: the key (uid 1000 in the official image) and chmod 600 it",
        "permission-denied"),
    Symptom(
        "encrypted-key", r"failed to parse private key|ENCRYPTED PRIVATE KEY",
        "tls: failed to parse private key",
        "the private key is encrypted or not a key; influxd has no passphrase option",
        "write an unencrypted copy readable only by influxd: (umask 077; openssl pkey -in "
        "enc.key -out influxdb.key)",
        "tls-failed-to-parse-private-key"),
    Symptom(
        "strict-ignored-tls13", r"TLS version 1\.3 does not support configuring strict ciphers",
        'msg="TLS version 1.3 does not support configuring strict ciphers"',
        "with tls-min-version 1.3 the strict cipher list does not apply (1.3 suites are "
        "all strong)",
        "nothing to fix; drop tls-strict-ciphers or set tls-min-version 1.2",
        "tls-version-13-does-not-support-configuring-strict-ciphers"),
)


MATRIX_PAGE = "trust-matrix.md"
# What clients of other TLS stacks say (the trust matrix's cells: GnuTLS, NSS, Node,
# Chromium, and the OpenSSL and Go texts for certificate defects). Checked before
# SYMPTOMS: some are Go lines that also hold "signed by unknown authority" while the
# cause is more specific. Each example is a real cell of docs/assets/trust-matrix.json.
CLIENT_SYMPTOMS: tuple[Symptom, ...] = (
    Symptom(
        "issuer-not-ca",
        r"invalid CA certificate|parent certificate cannot sign|issuer is not a CA"
        r"|SEC_ERROR_CA_CERT_INVALID|key usage does not include certificate signing",
        "curl: (60) SSL certificate problem: invalid CA certificate",
        "the certificate that signed the server's (or the one the client trusts) is not a "
        "CA: basicConstraints CA:FALSE, or no keyCertSign",
        "sign server certificates with a real CA (runbook certs ca, then runbook certs "
        "issue); give clients that CA, not a leaf",
        "issuer-not-ca", MATRIX_PAGE),
    Symptom(
        "weak-signature",
        r"signature digest algorithm too weak|insecure algorithm|"
        r"ERR_CERT_WEAK_SIGNATURE_ALGORITHM",
        "curl: (60) SSL certificate problem: CA signature digest algorithm too weak",
        "the certificate is signed with SHA-1 (or MD5); OpenSSL, Go, GnuTLS and Chromium "
        "refuse it",
        "have the CA sign a new certificate with SHA-256, then restart influxd",
        "sha1", MATRIX_PAGE),
    Symptom(
        "weak-key", r"key too weak|key too small|ERR_CERT_WEAK_KEY",
        "curl: (60) SSL certificate problem: EE certificate key too weak",
        "the server's RSA key is shorter than 2048 bits; OpenSSL at its default security "
        "level refuses it",
        "issue a new pair with an RSA 2048+ or ECDSA P-256 key (runbook certs issue "
        "--key-type p256), then restart influxd",
        "rsa-1024", MATRIX_PAGE),
    Symptom(
        "key-usage",
        r"Key usage violation|ERR_SSL_KEY_USAGE_INCOMPATIBLE|SEC_ERROR_INADEQUATE_KEY_USAGE",
        "*** Fatal error: Key usage violation in certificate has been detected.",
        "the certificate's keyUsage lacks digitalSignature, which an ECDHE or TLS 1.3 "
        "handshake needs (the upstream guide's keyUsage = keyEncipherment, "
        "dataEncipherment)",
        "reissue with keyUsage = digitalSignature, keyEncipherment (runbook certs issue "
        "does), then restart influxd",
        "no-digital-signature", MATRIX_PAGE),
    Symptom(
        "no-san", r"relies on legacy Common Name field",
        "tls: failed to verify certificate: x509: certificate relies on legacy Common Name "
        "field, use SANs instead",
        "the certificate names the host only in its CN; Go and browsers read only "
        "subjectAltName",
        "reissue with the host names and IPs in subjectAltName (runbook certs issue --san)",
        "cn-only", MATRIX_PAGE),
    Symptom(
        "ip-not-in-sans",
        r"doesn't contain any IP SANs|IP address mismatch|IP: \S+ is not in the cert's list",
        "x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any "
        "IP SANs",
        "the client connects by IP address, and that address is not an IP entry in the "
        "certificate's subjectAltName",
        "connect by a name the certificate lists, or reissue it with --san 127.0.0.1 (the "
        "address clients use)",
        "ip-missing", MATRIX_PAGE),
    Symptom(
        "cert-invalid", r"net::ERR_CERT_INVALID",
        "Page.goto: net::ERR_CERT_INVALID at https://localhost:PORT/health",
        "Chromium finds the chain unusable: a leaf used as a CA, a SHA-1 signature, or "
        "another structural defect (it does not say which)",
        "run: runbook check --cert server.crt --key server.key --ca ca.crt, and fix what "
        "it reports; the trust matrix lists what Chromium refuses",
        "chromium", MATRIX_PAGE),
    Symptom(
        "unknown-authority",
        r"SEC_ERROR_UNKNOWN_ISSUER|certificate issuer is unknown"
        r"|unable to verify the first certificate|net::ERR_CERT_AUTHORITY_INVALID",
        "UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate",
        "the client cannot chain the server certificate to a CA it trusts: the CA is not "
        "given to it, or the server does not send the intermediate",
        "give the client the CA file; make tls-cert hold the leaf followed by its "
        "intermediates",
        "x509-certificate-signed-by-unknown-authority"),
    Symptom(
        "hostname-mismatch",
        r"SSL_ERROR_BAD_CERT_DOMAIN|name in the certificate does not match"
        r"|does not match certificate's altnames|net::ERR_CERT_COMMON_NAME_INVALID",
        "tstclnt: authentication of server cert failed: SSL_ERROR_BAD_CERT_DOMAIN: Unable "
        "to communicate securely with peer: requested domain name does not match the "
        "server's certificate.",
        "the name the client connects to is not among the certificate's SANs",
        "connect with a name the certificate lists, or reissue it with that name in "
        "subjectAltName",
        "certificate-is-valid-for-x-not-y"),
    Symptom(
        "expired",
        r"SEC_ERROR_EXPIRED_CERTIFICATE|chain uses expired certificate"
        r"|net::ERR_CERT_DATE_INVALID",
        "- Status: The certificate is NOT trusted. The certificate chain uses expired "
        "certificate.",
        "the certificate's validity period has ended (or the clock is wrong)",
        "issue a new certificate, then restart influxd (no reload)",
        "certificate-has-expired-or-is-not-yet-valid"),
)


ACME_PAGE = "acme.md"
# A certbot renewal that did not reach influxd. Checked first: the key line
# also says "permission denied", which has a general entry below.
ACME_SYMPTOMS: tuple[Symptom, ...] = (
    Symptom(
        "certbot-hook-failed", r"Hook '(deploy-hook|renew-hook)' reported error code",
        "Hook 'deploy-hook' reported error code 1",
        "certbot renewed the certificate, but its deploy hook failed (certbot still exits 0): "
        "influxd may serve the old certificate until it expires",
        "read the hook's lines before this one; then compare: runbook probe "
        "https://NAME:8086 --compare-files /etc/letsencrypt/live/NAME/cert.pem",
        "the-served-certificate-is-older-than-the-one-on-disk", ACME_PAGE),
    Symptom(
        "served-cert-older", r"\[served-cert-older\]",
        "ERROR [served-cert-older] influxd serves an older certificate (serial 1A, expires "
        "2026-12-05 08:23 UTC) than /etc/letsencrypt/live/influxdb.example.test/cert.pem",
        "the certificate was renewed on disk, and influxd, which reads it only at start, "
        "was not restarted",
        "run the deploy hook again: RENEWED_LINEAGE=/etc/letsencrypt/live/NAME "
        "runbook deploy-hook --host NAME",
        "the-served-certificate-is-older-than-the-one-on-disk", ACME_PAGE),
    Symptom(
        "letsencrypt-key-unreadable", r"open /etc/letsencrypt/\S+: permission denied",
        "Error: open /etc/letsencrypt/live/influxdb.example.test/privkey.pem: permission denied",
        "influxd reads certbot's key, which every renewal writes again root-only",
        "point tls-key at a copy owned by influxd's user, made by a deploy hook "
        "(runbook deploy-hook)",
        "permission-denied-the-key-left-root-only", ACME_PAGE),
)


# Terminal control sequences (colours, cursor moves, title changes) and other
# control characters: a log line is echoed, and must not drive the terminal.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?"
                      r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(line: str) -> str:
    """`line` without terminal escape sequences or control characters."""
    return _ESCAPES.sub("", line)


def diagnose(text: str, *, limit: int | None = None) -> list[tuple[str, Symptom]]:
    """(line, symptom) for each line of `text` that matches a known symptom, the line
    made printable; at most `limit` of them (None: all)."""
    found: list[tuple[str, Symptom]] = []
    for line in text.splitlines():
        line = line[:LINE_LIMIT]
        for symptom in ACME_SYMPTOMS + CLIENT_SYMPTOMS + SYMPTOMS:
            if re.search(symptom.pattern, line, re.IGNORECASE):
                found.append((printable(line).strip(), symptom))
                break
        if limit is not None and len(found) >= limit:
            break
    return found


@dataclass(frozen=True)
class Diagnoses:
    """diagnose()'s (line, symptom) pairs as `runbook doctor` shows them: the
    text names each symptom once; the JSON lists every line, and says when
    `limit` stopped the reading (16 MiB of matching lines would be hundreds
    of MB of JSON)."""

    found: list[tuple[str, Symptom]]
    limit: int | None = None

    def text(self) -> str:
        if not self.found:
            return "No known TLS symptom found."
        lines, seen = [], set()
        for line, s in self.found:
            if s.id in seen:
                continue
            seen.add(s.id)
            lines += [f"[{s.id}] {line}", f"  cause: {s.cause}", f"  fix:   {s.fix}",
                      f"  see:   {s.page}#{s.section}"]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, object]:
        report: dict[str, object] = {"diagnoses": [{"line": line, **s.as_dict()}
                                                   for line, s in self.found]}
        if self.limit is not None and len(self.found) >= self.limit:
            report["truncated"] = (f"stopped after {self.limit} matching lines; "
                                   "the rest of the log was not read")
        return report
