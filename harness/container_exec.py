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
(what `docker cp` uses), which is not that stream."""

from __future__ import annotations

import io
import tarfile
import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath

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
    exec_id = api.exec_create(container.id, ["sh", "-c", script, "sh", here, *cmd],
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
