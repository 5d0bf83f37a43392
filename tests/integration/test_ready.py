"""`runbook wait` (runbook.ready) against a real influxd 2.9.1 in Docker: it
returns as soon as influxd answers, and stops at once when waiting cannot help."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab.server import TLSInfluxd
from runbook.errors import WaitTimeout
from runbook.poll import poll_until
from runbook.ready import NotTLS, NotTrusted, wait_ready
from runbook.tls import certs

pytestmark = pytest.mark.server
REPORT = Path(__file__).resolve().parents[2] / "reports" / "ready-lag.json"


LISTENING = re.compile(r'ts=(\S+) lvl=info msg=Listening .*transport=https')


def _listening_at(server: TLSInfluxd) -> dt.datetime:
    """The time on influxd's Listening line. influxd printed it before it
    answered, but the engine stores a container's output on its own time:
    under load `docker logs` can lack the line for a moment, so poll."""
    found = poll_until(lambda: LISTENING.search(server.logs()), timeout=10, interval=0.05,
                       what="influxd's Listening line in `docker logs`",
                       on_timeout=lambda: server.logs()[-2000:])
    return dt.datetime.fromisoformat(found[1].replace("Z", "+00:00"))


def test_wait_returns_once_influxd_answers_and_reports_how_long_after_listening(
        runbook_image, ca_cert_dir):
    lags = []
    for _ in range(3):
        with TLSInfluxd(cert_dir=ca_cert_dir, ca_file=ca_cert_dir / "ca.crt",
                        owner="pytest").start(wait=False) as s:
            ready = wait_ready(s.url + "/health", ca_file=str(ca_cert_dir / "ca.crt"))
            returned = dt.datetime.now(dt.UTC)
            assert ready.status == 200
            lags.append((returned - _listening_at(s)).total_seconds())
    # A timed report, not a timed test: the lag from influxd's Listening line to
    # the wait's return (container and host share the clock).
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps({"poll_s": 0.05, "lags_s": [round(x, 3) for x in lags]},
                                 indent=2) + "\n")


def test_an_untrusted_certificate_ends_the_wait_at_once(runbook_image, ca_cert_dir, cert_dir):
    other = certs.CA.create()
    other_ca = cert_dir / "other-ca.crt"
    other_ca.write_bytes(certs.cert_pem(other.cert))
    with TLSInfluxd(cert_dir=ca_cert_dir, ca_file=ca_cert_dir / "ca.crt", owner="pytest") as s:
        started = time.monotonic()
        with pytest.raises(NotTrusted, match="certificate does not verify"):
            wait_ready(s.url + "/health", ca_file=str(other_ca), timeout=30)
        assert time.monotonic() - started < 10  # not the 30 s deadline


def test_plain_http_on_an_https_url_is_named_at_once(runbook_image):
    with TLSInfluxd(tls=False, owner="pytest") as s, \
            pytest.raises(NotTLS, match="answers plain HTTP, not TLS"):
        wait_ready(s.url.replace("http://", "https://") + "/health", timeout=30)


def test_nothing_listening_times_out_naming_what_it_waited_for():
    with pytest.raises(WaitTimeout, match=r"waiting for https://127.0.0.1:9/health to answer; "
                                          r"last error: .*refused"):
        wait_ready("https://127.0.0.1:9/health", timeout=0.5)


def test_the_command_prints_one_line_and_exits_1_on_a_timeout():
    out = subprocess.run([sys.executable, "-m", "runbook", "wait", "http://127.0.0.1:9/health",
                          "--timeout", "0.3"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert out.stderr.startswith("ERROR: timed out after 0.3s waiting for http://127.0.0.1:9/")


def test_http_to_an_https_server_is_named_at_once(runbook_image, ca_cert_dir):
    with TLSInfluxd(cert_dir=ca_cert_dir, ca_file=ca_cert_dir / "ca.crt", owner="pytest") as s, \
            pytest.raises(NotTLS, match="speaks HTTPS, not plain HTTP"):
        wait_ready(s.url.replace("https://", "http://") + "/health", timeout=30)
