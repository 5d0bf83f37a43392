"""The ACME renewal on the Docker host, with nothing lost: certbot (Debian's)
and Pebble on the machine that runs the container, influxd in the official
image's layout as the container `influxdb`, its folder /etc/ssl/influxdb
mounted read-only, and the Python hook as acme.md's Docker readers are told
to run it: `runbook deploy-hook --user 1000 --restart-command "docker restart
influxdb"`. Telegraf on the host writes over verified HTTPS throughout; its
own file output counts what it produced, the bucket must hold as many.
(The package host's version of these tests: test_acme.py.)"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from harness.hosts.docker import host as host_docker
from lab.server import OWNER_LABEL, docker_client
from runbook.poll import poll_until
from tests.acme_host import (
    NAME,
    ONBOARD,
    RENEW,
    TELEGRAF_CONF,
    TELEGRAF_OUT,
    counts_after,
    live_serial,
    served_serial,
    sh,
    stored,
    watch_renewal,
)

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
HOOK = f'runbook deploy-hook --host {NAME} --user 1000 --restart-command "docker restart influxdb"'
CONTAINER = """docker create --name influxdb -p 8086:8086 \
  -v /etc/ssl/influxdb:/etc/ssl/influxdb:ro \
  -v influxdb2-data:/var/lib/influxdb2 -v influxdb2-config:/etc/influxdb2 influxdb:2.9.1 \
  --tls-cert=/etc/ssl/influxdb/server.crt --tls-key=/etc/ssl/influxdb/server.key"""
FAILS_ONCE = """cat > /usr/local/sbin/restart-fails-once <<'EOF'
#!/bin/sh
docker restart influxdb
if [ -e /root/fail-once ]; then rm /root/fail-once; echo 'the restart failed' >&2; exit 1; fi
EOF
chmod 755 /usr/local/sbin/restart-fails-once; touch /root/fail-once"""


@pytest.fixture
def host():
    """A Docker host with Pebble, the influxdb container started by the hook at
    the first issuance, onboarded, and Telegraf writing over verified HTTPS."""
    kwargs = host_docker.run_kwargs()
    kwargs["volumes"] = {**kwargs["volumes"], str(ROOT): {"bind": "/opt/runbook", "mode": "ro"}}
    kwargs["environment"] = {**kwargs["environment"], "PYTHONPATH": "/opt/runbook"}
    container = docker_client().containers.run(
        host_docker.build_image(), detach=True, name=f"rb-acme-docker-{secrets.token_hex(4)}",
        labels={OWNER_LABEL: "pytest"}, extra_hosts={NAME: "127.0.0.1"}, **kwargs)
    try:
        host_docker.wait_ready(container, deadline_s=60)
        sh(container, "/opt/runbook/harness/page_setup/start-pebble.sh")
        sh(container, f"mkdir -p /etc/ssl/influxdb && {CONTAINER}")
        sh(container, f"certbot certonly --standalone --non-interactive --agree-tos "
                      f"--email ops@example.test --domain {NAME} "
                      f"--server https://localhost:14000/dir --deploy-hook '{HOOK}'")
        assert served_serial(container) == live_serial(container)
        sh(container, ONBOARD)
        sh(container, f"mkdir -p {Path(TELEGRAF_OUT).parent} /etc/telegraf && cat > "
                      f"/etc/telegraf/acme.conf <<'EOF'\n{TELEGRAF_CONF}EOF\n"
                      "setsid telegraf --config /etc/telegraf/acme.conf "
                      ">/var/log/telegraf-acme.log 2>&1 </dev/null & "
                      "echo $! >/run/telegraf-acme.pid")
        poll_until(lambda: stored(container) >= 3, what="Telegraf's first writes over HTTPS",
                   timeout=30)
        yield container
    finally:
        container.remove(force=True, v=True)


def renew_and_time(host, renew: str) -> tuple[str, float, str]:
    """Start `renew` in the background (no systemd here: a session of its
    own); return the serial served when it changes (or the old one if it never
    does), the seconds until then, and certbot's output."""
    before = served_serial(host)
    sh(host, f"rm -f /root/renew.rc; setsid bash -c '{renew} >/root/renew.log 2>&1; "
             "echo $? >/root/renew.rc' </dev/null >/dev/null 2>&1 &")
    return watch_renewal(host, before)


def stop_telegraf(host) -> None:
    """SIGTERM: Telegraf flushes what it buffered, then exits."""
    sh(host, "pid=$(cat /run/telegraf-acme.pid); kill -TERM $pid; "
             "timeout 30 tail --pid=$pid -s 0.1 -f /dev/null")
    log = sh(host, "cat /var/log/telegraf-acme.log")
    assert "flushing any cached metrics before shutdown" in log, log[-2000:]


def test_forced_renewal_restarts_the_container_and_loses_no_telegraf_point(host):
    old = served_serial(host)
    new, seconds, log = renew_and_time(host, RENEW)
    assert "rc=0" in log, log
    assert new != old and new == live_serial(host), log
    # -L: server.key is a link through .live to the pair folder (runbook/pairs.py)
    assert sh(host, "stat -L -c '%u %a' /etc/ssl/influxdb/server.key").strip() == "1000 600"
    _, made, kept = counts_after(host, "renewal", stop_telegraf)
    print(f"Docker host renewal: {old} -> {new}, new serial served {seconds:.2f}s after "
          f"`{RENEW}` started; Telegraf produced {made}, stored {kept}")
    assert kept == made


def test_a_restart_that_fails_once_rolls_back_and_loses_nothing(host):
    # `docker restart` works, then the command reports failure once: the hook
    # must put the previous pair back and restart again.
    sh(host, FAILS_ONCE)
    old = served_serial(host)
    hook = HOOK.replace('"docker restart influxdb"', "/usr/local/sbin/restart-fails-once")
    new, _, log = renew_and_time(host, f'{RENEW} --deploy-hook "{hook}"')
    assert "is served again" in log and "exited 1: the restart failed" in log, log
    assert new == old != live_serial(host), log
    _, made, kept = counts_after(host, "rollback", stop_telegraf)
    print(f"Docker host failed renewal rolled back: {old} served again (live/ holds "
          f"{live_serial(host)}); Telegraf produced {made}, stored {kept}")
    assert kept == made
