"""A test fleet for the Ansible rollout (ansible/): N package hosts on a
Docker network of their own, each with influxd onboarded over HTTP and
Telegraf (a systemd service, as its package installs it) writing to it, and
the controller side: an inventory that reaches the hosts through nsenter
(tests/ansible_plugins; community.docker.docker where nsenter cannot be
used) instead of SSH (the only difference from a reader's inventory), and
ansible-playbook runs with their recap.

Everything carries the prefix `rb-fleet-<random>` and is removed by close(),
on failure too.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import docker.errors
import yaml

from harness.container_exec import nsenter_entry, shell
from harness.hosts.package import host as host_package
from harness.plugin import LABEL as SESSION_LABEL
from harness.plugin import SESSION_ENV
from lab.server import OWNER_LABEL, docker_client
from runbook.tls.contexts import tls_context
from tests.telegraf_counting import counting_config

ROOT = Path(__file__).resolve().parent.parent
ANSIBLE = ROOT / "ansible"
# Where the test inventory's connection (container_nsenter) comes from.
PLUGIN_ENV = {"ANSIBLE_CONNECTION_PLUGINS": str(ROOT / "tests" / "ansible_plugins" / "connection")}
ORG, BUCKET, TOKEN = "fleet", "telegraf", "fleet-test-token"
DOMAIN = "fleet.test"
TELEGRAF_CONF = "/etc/telegraf/telegraf.conf"
TELEGRAF_OUT = "/var/lib/telegraf-out/metrics.lp"
RECAP = re.compile(r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
                   r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)", re.M)

# Telegraf as its package runs it: a systemd service reading one file. The
# token comes from the unit's environment, not the file. outputs.file is
# Telegraf's own record of every point it produced.
TELEGRAF_UNIT = f"""[Unit]
Description=Telegraf
After=network-online.target influxdb.service

[Service]
Environment=INFLUX_TOKEN={TOKEN}
ExecStart=/usr/local/bin/telegraf --config {TELEGRAF_CONF}
Restart=no
TimeoutStopSec=30

[Install]
WantedBy=multi-user.target
"""
TELEGRAF_CONFIG = counting_config("http://localhost:8086", token="${INFLUX_TOKEN}", org=ORG,
                                  bucket=BUCKET, out_file=TELEGRAF_OUT, interval="1s")


def connection_vars(container, way: str = "nsenter") -> dict:
    """How an inventory reaches a container: through nsenter where the harness
    can enter it that way (root, nsenter), as `docker exec` would run it
    (tests/ansible_plugins); else, or with way="docker", community.docker.docker."""
    entry = nsenter_entry(container) if way == "nsenter" else None
    if entry is None:
        return {"ansible_connection": "community.docker.docker", "ansible_host": container.name}
    container.reload()
    pid = container.attrs["State"]["Pid"]
    return {"ansible_connection": "container_nsenter", "ansible_host": container.name,
            "ansible_nsenter_argv": entry.argv, "ansible_nsenter_env": entry.env,
            "ansible_nsenter_pid": pid,
            "ansible_nsenter_mnt_ns": os.stat(f"/proc/{pid}/ns/mnt").st_ino}


@dataclass
class PlaybookRun:
    rc: int
    output: str
    seconds: float
    recap: dict[str, dict[str, int]] = field(default_factory=dict)

    def changed(self) -> dict[str, int]:
        return {h: r["changed"] for h, r in self.recap.items()}


class Fleet:
    """Three (or n) package hosts and the controller's folder for them."""

    def __init__(self, n: int = 3) -> None:
        self.prefix = f"rb-fleet-{uuid.uuid4().hex[:8]}"
        self.names = [f"influx{i}.{DOMAIN}" for i in range(1, n + 1)]
        self.containers: dict = {}
        self.network = None
        self.work = Path(tempfile.mkdtemp(prefix=f"{self.prefix}-"))

    # -- lifecycle -----------------------------------------------------------

    def labels(self) -> dict[str, str]:
        """Ours, plus the test session's: the harness's end-of-run sweep then
        removes the hosts even if this process is killed before close()."""
        session = os.environ.get(SESSION_ENV)
        return {OWNER_LABEL: "pytest", **({SESSION_LABEL: session} if session else {})}

    def start(self) -> Fleet:
        client = docker_client()
        image = host_package.build_image()
        self.network = client.networks.create(self.prefix, labels=self.labels())
        for name in self.names:
            kwargs = host_package.run_kwargs()
            kwargs["volumes"][str(ROOT)] = {"bind": "/opt/runbook", "mode": "ro"}
            self.containers[name] = client.containers.run(
                image, detach=True, name=self.container_name(name), hostname=name,
                network=self.network.name, labels=self.labels(),
                environment={"PYTHONPATH": "/opt/runbook"}, **kwargs)
        # The hosts boot in parallel; each is ready when Telegraf's first
        # point is stored.
        with ThreadPoolExecutor(len(self.names)) as pool:
            list(pool.map(self._prepare, self.names))
        return self

    def _prepare(self, name: str) -> None:
        host_package.wait_ready(self.containers[name], deadline_s=90)
        self._onboard(name)
        self._start_telegraf(name)

    def close(self) -> None:
        # A host already gone (removed by hand, or by a sweep) must not keep
        # the network and the other hosts from being removed.
        for container in self.containers.values():
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True, v=True)
        self.containers.clear()
        if self.network is not None:
            self.network.remove()
            self.network = None
        shutil.rmtree(self.work, ignore_errors=True)

    def container_name(self, name: str) -> str:
        return f"{self.prefix}-{name.split('.')[0]}"

    # -- in the hosts --------------------------------------------------------

    def sh(self, name: str, cmd: str, *, check: bool = True) -> str:
        code, text = shell(self.containers[name], cmd, strict=True)
        if check and code != 0:
            raise AssertionError(f"{name}: {cmd!r} exited {code}: {text}")
        return text

    def _onboard(self, name: str) -> None:
        self.sh(name, f"influx setup --host http://localhost:8086 --org {ORG} --bucket {BUCKET} "
                      f"--username admin --password fleet-password --token {TOKEN} --force")

    def _start_telegraf(self, name: str) -> None:
        container = self.containers[name]
        self.sh(name, f"mkdir -p {Path(TELEGRAF_OUT).parent} /etc/telegraf\n"
                      f"cat > {TELEGRAF_CONF} <<'EOF'\n{TELEGRAF_CONFIG}EOF\n"
                      "cat > /etc/systemd/system/telegraf.service "
                      f"<<'EOF'\n{TELEGRAF_UNIT}EOF\nsystemctl daemon-reload\n"
                      "systemctl enable --now telegraf")
        wait_for(lambda: self.stored(name) > 0,
                 f"Telegraf's first point stored in {name} over HTTP ({container.name})", 30)

    def config(self, name: str) -> str:
        return self.sh(name, "cat /etc/influxdb/config.toml")

    def state(self, name: str) -> str:
        """What the rollout may change on a host: config, TLS files, Telegraf's config."""
        return self.sh(name, "sha256sum /etc/influxdb/config.toml " + TELEGRAF_CONF
                       + "; ls -la --time-style=+ /etc/influxdb/tls 2>&1 || true")

    def stored(self, name: str) -> int:
        """Points of Telegraf's `mem` input stored in this host's influxd
        (over HTTPS verified against the CA once the host is switched)."""
        https = "tls-cert" in self.config(name)
        base = f"https://{name}:8086" if https else "http://localhost:8086"
        tls = (f"--cacert /etc/influxdb/tls/ca.crt --resolve {name}:8086:127.0.0.1 "
               if https else "")
        flux = (f'from(bucket: "{BUCKET}") |> range(start: -1h, stop: 1h) '
                '|> filter(fn: (r) => r._measurement == "mem" and r._field == "used") '
                "|> count() |> group() |> sum()")
        out = self.sh(name, f"curl -sS --fail-with-body {tls}-H 'Authorization: Token {TOKEN}' "
                            "-H 'Content-Type: application/vnd.flux' -H 'Accept: application/csv' "
                            f"'{base}/api/v2/query?org={ORG}' --data-binary @- "
                            f"<<'EOF'\n{flux}\nEOF")
        rows = [r for r in csv.DictReader(io.StringIO(out.strip())) if r.get("_value")]
        return int(rows[0]["_value"]) if rows else 0

    def produced(self, name: str) -> tuple[int, int]:
        """Points Telegraf produced, from its own outputs.file: (lines, points).
        InfluxDB keys a point by series and timestamp. At a 1 s interval
        Telegraf rounds each metric's time to the nearest second (its
        accumulator: Round(precision)), so a gather that runs half a second
        late on a loaded machine gets the next gather's second: two lines, one
        point, the later value kept. `points` counts the distinct keys."""
        out = self.sh(name, f"if [ -f {TELEGRAF_OUT} ]; then "
                            f"grep -c '^mem,' {TELEGRAF_OUT} || true; "
                            f"awk '/^mem,/ {{print $1, $NF}}' {TELEGRAF_OUT} | sort -u | wc -l; "
                            "else echo 0 0; fi")
        lines, points = (int(n) for n in out.split())
        return lines, points

    def ip(self, name: str) -> str:
        self.containers[name].reload()
        return self.containers[name].attrs["NetworkSettings"]["Networks"][self.prefix]["IPAddress"]

    def served_certificate(self, name: str) -> bytes:
        """The DER certificate the host serves on :8086, from the controller,
        verified against the fleet CA for this host's name."""
        ctx = tls_context(self.ca_cert())
        with socket.create_connection((self.ip(name), 8086), timeout=5) as raw, \
                ctx.wrap_socket(raw, server_hostname=name) as tls:
            der = tls.getpeercert(binary_form=True)
        assert der is not None
        return der

    # -- the controller ------------------------------------------------------

    @property
    def inventory_dir(self) -> Path:
        return self.work / "inventory"

    @property
    def pki_dir(self) -> Path:
        """Where the reader's group_vars put the CA: next to the inventory."""
        return self.work / "pki"

    def ca_cert(self) -> Path:
        return self.pki_dir / "ca.crt"

    def issued_certificate(self, name: str) -> bytes:
        pem = (self.pki_dir / name / "server.crt").read_text()
        return ssl.PEM_cert_to_DER_cert(pem)

    def write_inventory(self, *, host_vars: dict[str, dict] | None = None,
                        extra_hosts: dict[str, dict] | None = None,
                        group_vars: dict | None = None) -> Path:
        """The reader's inventory (ansible/inventory/) with one difference:
        each host is reached as connection() says, not over SSH.
        `extra_hosts` are added as given (name: variables)."""
        inv = self.inventory_dir
        (inv / "group_vars").mkdir(parents=True, exist_ok=True)
        shutil.copy(ANSIBLE / "inventory/group_vars/influxdb.yml", inv / "group_vars/influxdb.yml")
        hosts = {}
        for name in self.names:
            hosts[name] = {**self.connection(name), **(host_vars or {}).get(name, {})}
        hosts.update(extra_hosts or {})
        data = {"influxdb": {"hosts": hosts, "vars": group_vars or {}}}
        (inv / "hosts.yml").write_text(yaml.safe_dump(data, sort_keys=False))
        return inv

    def connection(self, name: str) -> dict:
        return connection_vars(self.containers[name])

    def playbook(self, playbook: str, *args: str, timeout: float = 240) -> PlaybookRun:
        """ansible-playbook from the project's ansible/ folder, as a reader runs it."""
        require_ansible()
        env = {"PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
               "ANSIBLE_CONFIG": str(ANSIBLE / "ansible.cfg"),
               "ANSIBLE_LOCAL_TEMP": str(self.work / "ansible-tmp"),
               "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1", "HOME": str(self.work),
               **PLUGIN_ENV}
        started = time.monotonic()
        proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"),
                               "-i", str(self.inventory_dir), playbook, *args],
                              cwd=ANSIBLE, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=timeout)
        run = PlaybookRun(proc.returncode, proc.stdout, time.monotonic() - started)
        run.recap = self.parse_recap(proc.stdout)
        return run

    @staticmethod
    def parse_recap(output: str) -> dict[str, dict[str, int]]:
        """PLAY RECAP's counts per host."""
        return {m["host"]: {k: int(m[k]) for k in ("ok", "changed", "unreachable", "failed")}
                for m in RECAP.finditer(output)}


NO_ANSIBLE = ("Ansible is not installed in this venv ({bin}): `make test` installs it, or "
              "run: .venv/bin/pip install -e '.[fleet]'")


def require_ansible() -> None:
    """Fail (never skip) with the fix when the fleet extra is missing."""
    if not (Path(sys.executable).parent / "ansible-playbook").exists():
        raise AssertionError(NO_ANSIBLE.format(bin=Path(sys.executable).parent))


def wait_for(ready, what: str, timeout: float, interval: float = 0.2) -> None:
    """Poll `ready()` until it is true; on timeout say what was waited for."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except AssertionError as e:  # a command in the host failed: keep its message
            last = e
        time.sleep(interval)
    raise AssertionError(f"waited {timeout:.0f}s for {what}; last error: {last}")
