"""Run a command in a container and get its output even when the output
stream of `docker exec` loses it.

Under load the engine's exec stream (and so docker-py's `exec_run`) now and
then ends with the command's exit status but without its output (docker-py
#2042, moby #27289). Seen here in a `-n 4` run: the fleet test's
`sha256sum ...; ls ...` came back empty with status 0, and the test
reported a host that changed when nothing had. So the command writes its
output and status to files in the container and then prints them, with an
end line carrying the status. When the stream has that end line, it is
whole; when it has not, the files are read back through the archive API
(what `docker cp` uses), which is not that stream.

Where this process is root on the engine's own kernel, a command enters the
container's namespaces and cgroups with nsenter instead of `docker exec`:
the same root, PATH, environment, host name and working directory, at about
2 ms of CPU where an exec costs about 54 ms (runc, the shim and the engine,
measured on this 2-core machine). The docs harness runs about 3,000 blocks a
suite. RUNBOOK_EXEC=docker forces `docker exec`."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import docker.errors

from runbook.poll import poll_until

# In the container; one folder per command, so two commands at once in one
# container never share files.
FOLDER = "/tmp/.runbook-exec"
END = "--runbook-exec-end--"
# `"$@"` is the command with its arguments as given; its status is written
# once it ends, then its output is printed, then an end line on each stream
# (the engine copies the two streams apart: one whole says nothing of the other).
# Each end line carries the byte count of what came before it: a stream can
# also lose its first frames and keep its last (seen: status 0, no output).
WRAPPER = ('d=$1; shift; mkdir -p "$d" || exit 125; '
           '"$@" >"$d/out" {stderr}; echo $? >"$d/rc"; '
           'cat "$d/out"; {cat_err}read rc <"$d/rc"; '
           'printf "\\n%s %s %s\\n" {end} "$rc" "$(wc -c <"$d/out")"; '
           'printf "\\n%s %s\\n" {end} "{err_bytes}" >&2')


@dataclass
class Ran:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stdout, and stderr after it (interleaved when run with merge_stderr)."""
        return self.stdout + self.stderr


def run_in(container, cmd: list[str], *, merge_stderr: bool = False,
           workdir: str | None = None, environment: dict[str, str] | None = None,
           user: str = "", folder: str | None = None) -> Ran:
    """Run `cmd` in `container`; its exit status, stdout and stderr.

    With merge_stderr both go to stdout in the order written (as `2>&1`).
    `folder` (in the container) holds the files; by default a new one."""
    api = container.client.api
    here = folder or f"{FOLDER}/{uuid.uuid4().hex}"
    script = WRAPPER.format(stderr='2>&1' if merge_stderr else '2>"$d/err"',
                            cat_err='' if merge_stderr else 'cat "$d/err" >&2; ', end=END,
                            err_bytes='0' if merge_stderr else '$(wc -c <"$d/err")')
    argv = ["sh", "-c", script, "sh", here, *cmd]
    entry = None if user else nsenter_entry(container, workdir, environment)
    if entry is not None:
        proc = subprocess.run([*entry.argv, *argv], env=entry.env, stdin=subprocess.DEVNULL,
                              capture_output=True, check=False)
        whole = whole_streams(proc.stdout, proc.stderr)
        if whole is not None:
            return whole
        # The wrapper itself died (a signal): nsenter ends with that signal.
        code = 128 - proc.returncode if proc.returncode < 0 else proc.returncode
        return read_back(container, here, Ran(code, proc.stdout.decode(errors="replace"),
                                              proc.stderr.decode(errors="replace")))
    exec_id = api.exec_create(container.id, argv,
                              workdir=workdir, environment=environment, user=user)["Id"]
    out, err = api.exec_start(exec_id, demux=True)
    whole = whole_streams(out or b"", err or b"")
    if whole is not None:
        return whole
    out_text = (out or b"").decode(errors="replace")
    err_text = (err or b"").decode(errors="replace")
    # The stream lost an end line or some output. It can also end before
    # the process does: wait for the engine to say the process ended.
    state = poll_until(lambda: (s := api.exec_inspect(exec_id)) and not s["Running"] and s,
                       what=f"the end of {cmd[:3]!r} in {container.name}", timeout=30,
                       interval=0.02)
    return read_back(container, here, Ran(state["ExitCode"], out_text, err_text))


NSENTER = shutil.which("nsenter")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# nsenter's flag for each namespace in /proc/PID/ns; entered where it differs from ours.
NAMESPACES = {"mnt": "-m", "uts": "-u", "ipc": "-i", "net": "-n", "pid": "-p", "cgroup": "-C"}
# Joins the container's cgroups (what `docker exec` does too), then runs nsenter.
JOIN_CGROUPS = ('n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ 2>/dev/null >"$1" || :; '
                'shift; n=$((n-1)); done; exec "$@"')


@dataclass
class Entry:
    argv: list[str]  # the host-side command; the container's command follows it
    env: dict[str, str]  # the environment `docker exec` would give


def nsenter_entry(container, workdir: str | None = None,
                  environment: dict[str, str] | None = None) -> Entry | None:
    """How to run a command in `container` as `docker exec` would, with
    nsenter; None where that is not possible here (not root, no nsenter,
    the container not running, RUNBOOK_EXEC=docker): then `docker exec`."""
    if os.environ.get("RUNBOOK_EXEC") == "docker" or NSENTER is None or os.geteuid() != 0:
        return None
    info = container.client.api.inspect_container(container.id)
    pid = info["State"].get("Pid") or 0
    if not info["State"].get("Running") or pid <= 0:
        return None
    config = info["Config"]
    env = {"PATH": DEFAULT_PATH}
    env.update(item.split("=", 1) for item in config.get("Env") or [] if "=" in item)
    env.setdefault("HOSTNAME", config.get("Hostname") or "")
    env.setdefault("HOME", "/root")  # root's, as `docker exec` sets it
    env.update(environment or {})
    flags = []
    try:
        for name, flag in NAMESPACES.items():
            theirs = os.stat(f"/proc/{pid}/ns/{name}").st_ino
            if theirs != os.stat(f"/proc/self/ns/{name}").st_ino:
                flags.append(flag)
        procs = container_cgroups(pid, info["Id"])
    except FileNotFoundError:  # the container ended after the inspect
        return None
    # nsenter opens --wd before it enters the mount namespace: the path is
    # the container's directory as seen from here.
    wd = f"/proc/{pid}/root{workdir or config.get('WorkingDir') or '/'}"
    return Entry(["/bin/sh", "-c", JOIN_CGROUPS, "sh", str(len(procs)), *procs,
                  NSENTER, "-t", str(pid), *flags, f"--wd={wd}", "--"], env)


def container_cgroups(pid: int, container_id: str) -> list[str]:
    """The cgroup.procs files of the container's own cgroups (not a child
    such as systemd's init.scope), one per hierarchy that has one."""
    found = []
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if container_id not in path:
            continue
        own = path[:path.index(container_id) + len(container_id)]
        mounts = ([f"/sys/fs/cgroup/unified{own}", f"/sys/fs/cgroup{own}"] if not controllers
                  else [f"/sys/fs/cgroup/{controllers.removeprefix('name=')}{own}"])
        found += [f"{m}/cgroup.procs" for m in mounts if Path(m, "cgroup.procs").exists()][:1]
    return found


def whole_streams(out: bytes, err: bytes) -> Ran | None:
    """The result when both streams end with their end line and hold as
    many bytes as the end line says; None when anything is missing."""
    body, sep, tail = out.rpartition(f"\n{END} ".encode())
    fields = tail.split()
    if not (sep and tail.endswith(b"\n") and len(fields) == 2
            and all(f.isdigit() for f in fields) and len(body) == int(fields[1])):
        return None
    err_body, sep, err_tail = err.rpartition(f"\n{END} ".encode())
    if not (sep and err_tail.endswith(b"\n") and err_tail.strip().isdigit()
            and len(err_body) == int(err_tail)):
        return None
    return Ran(int(fields[0]), body.decode(errors="replace"), err_body.decode(errors="replace"))


def shell(container, script: str, *, strict: bool = False,
          environment: dict[str, str] | None = None) -> tuple[int, str]:
    """A bash script's status and its output, stderr merged in as a terminal
    shows it; `strict` runs it with -euo pipefail."""
    flags = ["-euo", "pipefail"] if strict else []
    ran = run_in(container, ["bash", *flags, "-c", script], merge_stderr=True,
                 environment=environment)
    return ran.exit_code, ran.stdout


def read_back(container, folder: str, stream: Ran) -> Ran:
    """The result from the files in `folder`; where the wrapper did not get
    as far as writing the status, what `stream` (the engine's) says."""
    try:
        bits, _ = container.get_archive(folder)
    except docker.errors.NotFound:  # mkdir failed: no files
        return stream
    with tarfile.open(fileobj=io.BytesIO(b"".join(bits))) as tar:
        files = {PurePosixPath(m.name).name: tar.extractfile(m).read().decode(errors="replace")
                 for m in tar.getmembers() if m.isfile()}
    if "rc" not in files:
        return Ran(stream.exit_code, files.get("out", stream.stdout),
                   files.get("err", stream.stderr))
    return Ran(int(files["rc"]), files.get("out", ""), files.get("err", ""))
