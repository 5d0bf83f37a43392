"""What the ACME integration tests share, whichever host runs influxd: the
names, Telegraf's counting config, and reading serials and point counts
inside a host container (tests/integration/test_acme*.py)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable

from harness.container_exec import shell
from runbook.poll import poll_until
from tests.telegraf_counting import counting_config

NAME = "influxdb.example.test"
ORG, BUCKET, TOKEN = "acme", "metrics", "acme-integration-token"
RENEW = "certbot renew --force-renewal --no-random-sleep-on-renew"
TELEGRAF_OUT = "/var/lib/telegraf-acme/metrics.lp"
TELEGRAF_CONF = counting_config(
    f"https://{NAME}:8086", token=TOKEN, org=ORG, bucket=BUCKET, out_file=TELEGRAF_OUT,
    note="No tls_ca: the system trust store holds the ACME CA's root, as it holds\n"
         "Let's Encrypt's on a real server. Verified, not skipped.")
ONBOARD = f"""curl --silent --show-error --fail https://{NAME}:8086/api/v2/setup \
  -H 'Content-Type: application/json' -o /dev/null \
  -d '{{"username":"admin","password":"acme-password","org":"{ORG}",
        "bucket":"{BUCKET}","token":"{TOKEN}"}}'"""


def sh(host, cmd: str, *, ok: bool = True) -> str:
    code, text = shell(host, cmd, environment={"HOME": "/root"})
    if ok:
        assert code == 0, f"{cmd!r} exited {code}: {text}"
    return text


def served_serial(host) -> str:
    """The serial influxd presents, over a handshake verified for NAME ('' if none)."""
    return sh(host, f"openssl s_client -connect localhost:8086 -servername {NAME} "
                    f"-verify_hostname {NAME} -verify_return_error </dev/null 2>/dev/null "
                    "| openssl x509 -noout -serial 2>/dev/null", ok=False).strip()


def live_serial(host) -> str:
    return sh(host, f"openssl x509 -noout -serial -in /etc/letsencrypt/live/{NAME}/cert.pem"
              ).strip()


def stored(host) -> int:
    out = sh(host, f"""curl --silent --show-error --fail \
      https://{NAME}:8086/api/v2/query?org={ORG} -H 'Authorization: Token {TOKEN}' \
      -H 'Content-Type: application/vnd.flux' \
      -H 'Accept: application/csv' --data 'from(bucket: "{BUCKET}")
        |> range(start: -1h, stop: 1h)
        |> filter(fn: (r) => r._measurement == "mem" and r._field == "used")
        |> count() |> group() |> sum()'""")
    rows = [r for r in csv.DictReader(io.StringIO(out.strip())) if r.get("_value")]
    return int(rows[0]["_value"]) if rows else 0


def produced(host) -> int:
    lines = sh(host, f"cat {TELEGRAF_OUT}").splitlines()
    return sum(1 for ln in lines if ln.startswith("mem,"))


def watch_renewal(host, before: str, timeout: float = 120) -> tuple[str, float, str]:
    """Poll, 5 times a second, a certbot run started in the background that
    writes its exit code to /root/renew.rc and its output to /root/renew.log.
    Returns the serial served at the end, the seconds until the served serial
    first differed from `before` (or until the end, if it never did), and
    certbot's output with its exit code."""
    start = time.monotonic()
    changed: list[float] = []

    def finished() -> bool:
        if not changed and served_serial(host) not in ("", before):
            changed.append(time.monotonic() - start)
        return sh(host, "cat /root/renew.rc 2>/dev/null", ok=False).strip() != ""

    poll_until(finished, what="the background certbot run to finish", timeout=timeout,
               interval=0.2)
    took = changed[0] if changed else time.monotonic() - start
    return served_serial(host), took, sh(host, "cat /root/renew.log; echo rc=$(cat /root/renew.rc)")


def counts_after(host, label: str, stop_telegraf: Callable[[object], None]) -> tuple[int, int, int]:
    """Let Telegraf write 3 more points after the `label` (renewal, rollback),
    stop it (it flushes its buffer), and count: (stored at the start, produced
    by Telegraf's own file output, stored in the bucket)."""
    at = stored(host)
    poll_until(lambda: stored(host) >= at + 3, what=f"Telegraf's writes after the {label}",
               timeout=30)
    stop_telegraf(host)
    return at, produced(host), stored(host)
