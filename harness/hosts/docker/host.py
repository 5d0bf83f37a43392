"""The Docker host: a page host with its own inner Docker engine, on which a
Docker reader's commands run for real (`docker run ... influxdb:2.9.1`,
`docker restart influxdb`, `docker logs influxdb`). It has no influxd of its
own; InfluxDB runs in the inner engine from the runbook image, loaded there
under the official names influxdb:2.9.1 and influxdb:2.9 (a local build with
the official image's layout, not the image from Docker Hub).

The inner engine's data root (images, containers, volumes) lives in the
host's tmpfs, so removing the host container removes everything the page made.
Interface: see harness/hosts/__init__.py. Built by harness/hosts/docker/build.sh.
"""

from __future__ import annotations

import time
from pathlib import Path

import docker.errors
from docker.types import Mount

from harness.hosts import DEFAULT_RELEASE, HostNotReady, run_script

ROOT = Path(__file__).resolve().parents[3]
PAYLOAD_MOUNT = "/opt/docker-host"
DATA_ROOT = "/var/lib/docker"
# exec: inner containers run programs from it (Docker's --tmpfs default is
# noexec); dev and suid: image layers keep their device whiteouts and modes.
DATA_ROOT_TMPFS = "rw,exec,suid,dev,mode=755"
INNER_TAGS = ("influxdb:2.9.1", "influxdb:2.9")
# Telegraf's image as a Docker reader pulls it (harness/hosts/docker/start-engine.sh).
TELEGRAF_TAG = "telegraf:" + next(
    line.split("=", 1)[1].strip().removeprefix("v")
    for line in (ROOT / "versions.env").read_text().splitlines()
    if line.startswith("TELEGRAF_VERSION="))
POLL_S = 0.1
READY_LINE = "docker-host: ready"
ERROR_LINE = "docker-host: ERROR: "

# Per Debian release: the host image, its payload and the image it holds.
_built: dict[str, dict[str, str]] = {}


def build_image(release: str = DEFAULT_RELEASE) -> str:
    """Build or reuse the host image and its inner payload on that Debian
    release; returns the host image's tag (a hash of its inputs). Progress
    goes to stderr."""
    if release not in _built:
        run_script("scripts/docker-engine.sh")
        out = run_script("harness/hosts/docker/build.sh", env={"RUNBOOK_RELEASE": release})
        values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        missing = {"host_image", "payload", "source_image"} - values.keys()
        if missing:
            raise HostNotReady(f"harness/hosts/docker/build.sh printed no {sorted(missing)}; "
                               "fix: run it by hand and read its output")
        _built[release] = values
    return _built[release]["host_image"]


def cgroup_version() -> int:
    """The outer engine's cgroup version (what its containers get)."""
    return int(docker.from_env().info().get("CgroupVersion") or 1)


def run_kwargs(release: str = DEFAULT_RELEASE) -> dict:
    """docker SDK `containers.run` arguments for one host (merge-friendly:
    the caller adds image, name, labels and its own volumes/environment)."""
    build_image(release)  # cheap once built: the payload path comes from it
    built = _built[release]
    payload = built["payload"]
    inner_name = "dataroot.tar" if Path(payload).name.startswith("dataroot-") else "images.tar"
    kwargs = {
        "entrypoint": ["/usr/local/sbin/start-engine.sh"],
        "command": [],
        "init": True,  # reaps what page blocks leave in the background
        # Without --privileged (refused here): mounts for overlay2 and the
        # inner containers, and the inner bridge and port-publishing rules.
        "cap_add": ["SYS_ADMIN", "NET_ADMIN"],
        "security_opt": ["seccomp=unconfined", "apparmor=unconfined"],
        # overlay2 cannot nest on the host's own overlay root; tmpfs also
        # means nothing the inner engine stores outlives the host.
        "tmpfs": {DATA_ROOT: DATA_ROOT_TMPFS},
        # A mount, not a volume: a payload deleted meanwhile is an error, not
        # an empty directory that Docker creates in its place.
        "mounts": [Mount(f"{PAYLOAD_MOUNT}/{inner_name}", payload, type="bind", read_only=True)],
        "volumes": {},
        "environment": {"DOCKER_HOST_SOURCE_IMAGE": built["source_image"],
                        "DOCKER_HOST_TAGS": " ".join(INNER_TAGS),
                        "DOCKER_HOST_TELEGRAF_TAG": TELEGRAF_TAG},
    }
    if cgroup_version() >= 2:
        # The host's own cgroup becomes its namespace's root; start-engine.sh
        # remounts it writable and nests the inner containers below it.
        kwargs["cgroupns"] = "private"
    else:
        # cgroup v1: the machine's hierarchy, writable (this exposes the
        # machine's cgroups to the host: acceptable for a throwaway test host).
        # start-engine.sh puts the inner containers below the host's own cgroup.
        kwargs["volumes"]["/sys/fs/cgroup"] = {"bind": "/sys/fs/cgroup", "mode": "rw"}
    return kwargs


def _tail(container, lines: int = 15) -> str:
    try:
        return container.logs(tail=lines).decode(errors="replace")
    except Exception:  # noqa: BLE001 - the container may be gone
        return ""


def wait_ready(container, deadline_s: float = 60) -> float:
    """Poll until the inner engine answers and influxdb:2.9.1 is in it;
    returns the seconds waited. Raises HostNotReady (one line) on failure."""
    started = time.monotonic()
    what = "the Docker host's inner engine with influxdb:2.9.1 loaded"
    while True:
        try:
            container.reload()
        except docker.errors.NotFound:
            raise HostNotReady(f"waited for {what}: the host container {container.name} is gone "
                               "(removed from outside?); fix: rerun the test") from None
        log = _tail(container, 40)
        errors = [line for line in log.splitlines() if line.startswith(ERROR_LINE)]
        if errors:
            raise HostNotReady(f"waited for {what}: {errors[-1].removeprefix(ERROR_LINE)}")
        if container.status in ("exited", "dead"):
            last = log.strip().splitlines()[-1:] or ["no output"]
            raise HostNotReady(f"waited for {what}: the host exited with code "
                               f"{container.attrs['State']['ExitCode']} ({last[0]}); fix: run "
                               f"`docker logs {container.name}` before it is removed")
        if READY_LINE in log:
            break
        if time.monotonic() - started > deadline_s:
            raise HostNotReady(f"waited {deadline_s:g}s for {what}; no ready line yet (last: "
                               f"{(log.strip().splitlines() or ['no output'])[-1]}); fix: read "
                               "`docker logs` of the host, or raise the deadline on a slow machine")
        time.sleep(POLL_S)
    # The entrypoint says it is ready; check it from the outside once.
    code, out = container.exec_run(["docker", "image", "inspect", "--format", "{{.Id}}",
                                    *INNER_TAGS])
    if code != 0:
        raise HostNotReady(f"waited for {what}: the host says ready but `docker image inspect "
                           f"{' '.join(INNER_TAGS)}` failed: {out.decode().strip()[:200]}; fix: "
                           "rerun harness/hosts/docker/build.sh")
    return time.monotonic() - started


def log_tail(container, lines: int = 25) -> str:
    """`docker logs --tail LINES influxdb` in the host; empty if no such container."""
    code, out = container.exec_run(
        ["sh", "-c", f"docker inspect influxdb >/dev/null 2>&1 || exit 0; "
                     f"docker logs --tail {int(lines)} influxdb 2>&1"])
    return out.decode(errors="replace").strip() if code == 0 else ""

