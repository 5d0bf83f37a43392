"""What one command in a host costs, through nsenter and through `docker
exec` (harness/container_exec.py picks nsenter where it can).

    python -m harness.exec_bench [N]

Starts one container of the demo's image, runs `true` N times (default 100)
each way, and prints the wall time and the machine's CPU time (all
processes, from /proc/stat: runc, the shim and the engine count too) per
command. Run it on a quiet machine: other work's CPU counts as well.
"""

from __future__ import annotations

import os
import sys
import time

from harness.container_exec import nsenter_entry, run_in
from harness.plugin import _ensure_image
from lab.server import OWNER_LABEL, docker_client


def machine_cpu_s() -> float:
    """CPU seconds the whole machine has spent outside idle and iowait."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def per_command(container, way: str, n: int) -> tuple[float, float]:
    """(wall ms, machine CPU ms) per `true` run `way`."""
    os.environ["RUNBOOK_EXEC"] = way
    wall, cpu = time.monotonic(), machine_cpu_s()
    for _ in range(n):
        ran = run_in(container, ["true"])
        if ran.exit_code != 0:
            raise SystemExit(f"exec_bench: `true` failed {way}: {ran.output}")
    return ((time.monotonic() - wall) * 1000 / n, (machine_cpu_s() - cpu) * 1000 / n)


USAGE = "usage: python -m harness.exec_bench [N]   (N commands each way, 1 to 10000; default 100)"


def main(argv: list[str]) -> int:
    try:
        n = int(argv[0]) if argv else 100
        if len(argv) > 1 or not 1 <= n <= 10_000:
            raise ValueError
    except ValueError:
        print(USAGE, file=sys.stderr)
        return 2
    container = docker_client().containers.run(_ensure_image(), ["sleep", "infinity"],
                                               entrypoint=[], detach=True, user="root",
                                               labels={OWNER_LABEL: "exec-bench"})
    try:
        os.environ["RUNBOOK_EXEC"] = "nsenter"
        if nsenter_entry(container) is None:
            print("exec_bench: nsenter cannot enter a container here (run as root with "
                  "util-linux's nsenter)", file=sys.stderr)
            return 2
        for way in ("nsenter", "docker"):
            wall_ms, cpu_ms = per_command(container, way, n)
            print(f"{way:8} {n} commands: {wall_ms:6.1f} ms wall, {cpu_ms:6.1f} ms machine CPU "
                  "per command")
    finally:
        container.remove(force=True, v=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:  # main's finally has removed the container
        print("exec_bench: interrupted; its container is removed", file=sys.stderr)
        sys.exit(130)
