"""The package host: Debian with systemd as PID 1 and the influxdb2 and
influxdb2-cli .debs installed by apt-get, influxdb.service enabled (it starts
at boot on plain HTTP). Built by harness/hosts/package/build.sh. Interface:
see harness/hosts/__init__.py.

For manual debugging:  python -m harness.hosts.package.host start|stop
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import docker.errors

from harness.container_exec import run_in
from harness.hosts import DEFAULT_RELEASE, HostNotReady, last_line, release_env, run_script

ROOT = Path(__file__).resolve().parents[3]
IMAGE_ENV = "RUNBOOK_PACKAGE_HOST_IMAGE"
POLL_S = 0.1
MANUAL_NAME = "runbook-package-host-manual"


def _docker():
    import docker  # the test extra; imported here so the module loads without it

    return docker.from_env()


def build_image(release: str = DEFAULT_RELEASE) -> str:
    """Build or reuse the package host image on that Debian release; its tag."""
    pin = release_env(IMAGE_ENV, release)
    if not os.environ.get(pin):
        run_script("scripts/docker-engine.sh")
        os.environ[pin] = last_line(run_script("harness/hosts/package/build.sh",
                                               env={"RUNBOOK_RELEASE": release}))
    return os.environ[pin]


def cgroup_version() -> str:
    """The engine's cgroup version ("1" or "2"): what systemd's options depend on."""
    version = str(_docker().info().get("CgroupVersion") or "")
    if version not in ("1", "2"):
        raise HostNotReady(f"the Docker engine reports cgroup version {version!r}: systemd "
                           "needs cgroups v1 or v2. Fix: run the engine on a host with "
                           "/sys/fs/cgroup mounted.")
    return version


def run_kwargs(release: str = DEFAULT_RELEASE) -> dict:
    """docker SDK `containers.run` arguments that boot systemd as PID 1 without
    --privileged (refused here). Same options as
    `harness/hosts/package/build.sh run-options`."""
    v2 = cgroup_version() == "2"
    return {
        "entrypoint": ["/lib/systemd/systemd"],
        "command": [],
        # systemd writes its boot messages to a console: `docker logs` then
        # holds the reason when it cannot boot.
        "tty": True,
        # systemd expects /run and /run/lock to be tmpfs.
        "tmpfs": {"/run": "", "/run/lock": ""},
        # v1: the hierarchy, read-only is enough (Docker gives the container
        # its own writable cgroups). v2: writable, in the host's cgroup
        # namespace (the usual systemd-in-Docker recipe; this machine is v1,
        # so it is untried here). Either way the machine's cgroup tree is
        # visible inside: fine for a test host.
        "volumes": {"/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw" if v2 else "ro"}},
        **({"cgroupns": "host"} if v2 else {}),
        # systemd's clean shutdown: `docker stop` stops influxdb.service first.
        "stop_signal": "SIGRTMIN+3",
    }


def _exec(container, *cmd: str) -> tuple[int, str]:
    """Run a command in the host; a host that stopped meanwhile answers
    nothing (the next poll sees it exited and says why)."""
    try:
        ran = run_in(container, list(cmd), merge_stderr=True)
    except docker.errors.APIError:
        return -1, ""
    return ran.exit_code, ran.stdout.strip()


def _boot_reason(container) -> str:
    """systemd's last complaint on its console, without colours."""
    import re

    text = container.logs(tail=40).decode(errors="replace")
    text = re.sub(r"\x1b\[[0-9;]*m", "", text).replace("\r", "")
    lines = [ln.strip() for ln in text.splitlines()]
    # The cause ("Failed to create .../init.scope control group", "Failed to
    # mount cgroup ...") comes before the generic "Failed to allocate manager
    # object" and "Exiting PID 1...".
    for pattern in (r"Failed to (create|mount) .*(cgroup|control group)", r"Failed|Freezing",
                    r"Exiting|error"):
        found = [ln for ln in lines if re.search(pattern, ln)
                 and "File exists" not in ln]  # a harmless cpuacct symlink complaint
        if found:
            return found[-1]
    return "no message on its console"


def wait_ready(container, deadline_s: float = 60) -> float:
    """Poll until systemd is `running`, influxdb.service is active and
    http://localhost:8086/ping answers 204. Returns the seconds waited."""
    return wait_booted(container, deadline_s, influxd=True, host="package host",
                       image_dir="harness/hosts/package")


def wait_booted(container, deadline_s: float, *, influxd: bool, host: str,
                image_dir: str) -> float:
    """Poll until systemd is `running` and, with `influxd`, until the
    influxdb service answers on plain HTTP. Returns the seconds waited."""
    start = time.monotonic()
    waiting_for = "systemd to reach 'running'"
    last = "no answer yet"
    while True:
        container.reload()
        if container.status != "running":
            code = container.attrs["State"]["ExitCode"]
            raise HostNotReady(
                f"waited for {waiting_for} in the {host}: systemd exited (code {code}: "
                f"{_boot_reason(container)}); it needs a cgroup mount and /run tmpfs. Fix: "
                "start it with harness.hosts.package.host.run_kwargs() "
                f"(cgroup v{cgroup_version()} here: volume /sys/fs/cgroup, tmpfs /run "
                "and /run/lock).")
        if waiting_for.startswith("systemd"):
            _, state = _exec(container, "systemctl", "is-system-running")
            last = state or "no answer"
            if state == "degraded":
                _, failed = _exec(container, "systemctl", "--failed", "--no-legend", "--plain")
                units = " ".join(ln.split()[0] for ln in failed.splitlines() if ln.split())
                raise HostNotReady(f"waited for systemd to reach 'running' in the {host}: "
                                   f"it is degraded, failed units: {units}. Fix: see "
                                   "`journalctl -b` there; mask units that cannot run in a "
                                   f"container in {image_dir}/Dockerfile.")
            if state == "running":
                if not influxd:
                    return time.monotonic() - start
                waiting_for = "influxdb.service to be active"
        if waiting_for.startswith("influxdb.service"):
            _, state = _exec(container, "systemctl", "is-active", "influxdb")
            last = state
            if state == "failed":
                raise HostNotReady(f"waited for influxdb.service to be active: it failed "
                                   f"({log_tail(container, 1)}). Fix: `journalctl -u influxdb` "
                                   "in the host.")
            if state == "active":
                waiting_for = "http://localhost:8086/ping to answer 204"
        if waiting_for.startswith("http"):
            _, status = _exec(container, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                              "http://localhost:8086/ping")
            last = f"HTTP {status}"
            if status == "204":
                return time.monotonic() - start
        if time.monotonic() - start > deadline_s:
            raise HostNotReady(
                f"waited {deadline_s:.0f}s for {waiting_for} in the {host}; last answer: "
                f"{last} ({_boot_reason(container) if 'systemd' in waiting_for else log_tail(container, 1)}). "  # noqa: E501
                "Fix: `docker logs` and `journalctl -b` in the host show why.")
        time.sleep(POLL_S)


def log_tail(container, lines: int = 25) -> str:
    """influxd's log on a package host: the journal of influxdb.service."""
    _, out = _exec(container, "journalctl", "-u", "influxdb", "-n", str(lines), "--no-pager")
    return out


def main(argv: list[str]) -> int:
    """python -m harness.hosts.package.host start|stop: one host for manual debugging."""
    if argv not in (["start"], ["stop"]):
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    client = _docker()
    for old in client.containers.list(all=True, filters={"name": f"^{MANUAL_NAME}$"}):
        old.remove(force=True, v=True)
    if argv == ["stop"]:
        print(f"removed {MANUAL_NAME}", file=sys.stderr)
        return 0
    kwargs = run_kwargs()
    kwargs["volumes"][str(ROOT)] = {"bind": "/opt/runbook", "mode": "ro"}
    container = client.containers.run(build_image(), detach=True, name=MANUAL_NAME,
                                      environment={"PYTHONPATH": "/opt/runbook"}, **kwargs)
    try:
        waited = wait_ready(container)
    except HostNotReady as e:
        container.remove(force=True, v=True)
        print(f"ERROR: {e}", file=sys.stderr)
        return 1
    print(f"{MANUAL_NAME}: ready in {waited:.1f}s; `docker exec -it {MANUAL_NAME} bash`; "
          "stop: python -m harness.hosts.package.host stop", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
