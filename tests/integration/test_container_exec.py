"""harness/container_exec.py: a command's status, stdout and stderr from a real
container, read back from files rather than from docker exec's stream; each
test runs through both ways in (nsenter, and `docker exec`)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness.container_exec import Ran, nsenter_entry, read_back, run_in, shell
from lab.server import OWNER_LABEL, docker_client

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def box(runbook_image):
    container = docker_client().containers.run(runbook_image, ["sleep", "infinity"],
                                               entrypoint=[], detach=True, user="root",
                                               labels={OWNER_LABEL: "pytest"})
    yield container
    container.remove(force=True, v=True)


@pytest.fixture(autouse=True, params=["nsenter", "docker"])
def way_in(request, monkeypatch, box):
    """Every test below, through nsenter and through `docker exec`."""
    monkeypatch.setenv("RUNBOOK_EXEC", request.param)
    if request.param == "nsenter" and nsenter_entry(box) is None:
        pytest.fail("nsenter cannot enter the container: make test runs as root "
                    "with util-linux's nsenter")
    return request.param


# What a command can see of where it runs.
WHERE = ('id -u; pwd; hostname; printenv | grep -v "^_=" | sort; '
         'cat /proc/self/cgroup; tr "\\0" " " </proc/1/cmdline; echo; '
         'readlink /proc/self/ns/pid /proc/self/ns/mnt /proc/self/ns/net')


def test_nsenter_puts_a_command_where_docker_exec_does(box, monkeypatch, way_in):
    # Same user, directory, host name, environment, cgroups, PID 1 and
    # namespaces: the only difference is what it costs.
    seen = {}
    for way in ("nsenter", "docker"):
        monkeypatch.setenv("RUNBOOK_EXEC", way)
        ran = run_in(box, ["sh", "-c", WHERE], workdir="/tmp", environment={"GREETING": "hi"})
        assert ran.exit_code == 0, ran.stderr
        seen[way] = ran.stdout
    assert seen["nsenter"] == seen["docker"]
    assert "GREETING=hi\n" in seen["nsenter"] and "/docker/" in seen["nsenter"]


def test_status_stdout_and_stderr_come_back_apart(box):
    ran = run_in(box, ["sh", "-c", "echo to-out; echo to-err >&2; exit 3"])
    assert (ran.exit_code, ran.stdout, ran.stderr) == (3, "to-out\n", "to-err\n")


def test_merged_output_keeps_the_order_it_was_written_in(box):
    ran = run_in(box, ["sh", "-c", "echo 1; echo 2 >&2; echo 3"], merge_stderr=True)
    assert (ran.exit_code, ran.stdout, ran.stderr) == (0, "1\n2\n3\n", "")


def test_workdir_environment_and_arguments_reach_the_command(box):
    ran = run_in(box, ["sh", "-c", 'printf "%s|%s|%s" "$PWD" "$GREETING" "$0"', "a b"],
                 workdir="/root", environment={"GREETING": "hi there"})
    assert ran.stdout == "/root|hi there|a b"


def test_a_background_process_that_keeps_stdout_open_does_not_hold_the_call(box):
    # Through the exec stream this call would last as long as the sleep.
    ran = run_in(box, ["sh", "-c", "sleep 300 & echo $!"])
    pid = int(ran.stdout)
    assert run_in(box, ["test", "-d", f"/proc/{pid}"]).exit_code == 0, "the sleep had ended"


def test_quick_commands_never_come_back_without_their_output(box):
    # The failure this module exists for: a status with its output missing.
    # Many short commands at once, as under a loaded `-n 4` run.
    def one(n: int) -> tuple[int, str]:
        ran = run_in(box, ["echo", str(n)])
        return ran.exit_code, ran.stdout

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(80)))
    assert results == [(0, f"{n}\n") for n in range(80)]


def test_the_files_say_what_the_stream_said(box):
    # What run_in falls back on when the stream comes back without its end
    # lines: the same status and output, from the files alone.
    folder = "/tmp/.runbook-exec/read-back-check"
    ran = run_in(box, ["sh", "-c", "echo to-out; echo to-err >&2; exit 4"], folder=folder)
    assert read_back(box, folder, Ran(-1, "", "")) == ran == Ran(4, "to-out\n", "to-err\n")


def test_a_wrapper_killed_before_the_status_gives_the_engines_status(box):
    # The command kills the wrapper while the wrapper waits for it: the
    # status file is never written; the command's own output still is.
    ran = run_in(box, ["sh", "-c", "echo partial; kill -9 $PPID"])
    assert (ran.exit_code, ran.stdout) == (137, "partial\n")


def test_a_folder_that_cannot_be_made_gives_its_error_not_a_traceback(box):
    ran = run_in(box, ["true"], folder="/proc/no-such-place/x")
    assert ran.exit_code == 125 and "mkdir" in ran.stderr


def test_shell_merges_the_streams_and_strict_stops_at_a_failing_pipe(box):
    assert shell(box, "echo a; echo b >&2; false | true; echo c") == (0, "a\nb\nc\n")
    assert shell(box, "echo a; false | true; echo c", strict=True) == (1, "a\n")


def test_exec_bench_prints_each_ways_cost(capsys, way_in):
    # harness/exec_bench.py, the figure behind nsenter: both ways, named.
    from harness import exec_bench

    assert exec_bench.main(["3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in lines] == ["nsenter", "docker"]
    assert all(re.search(r"3 commands: +[\d.]+ ms wall, +[\d.]+ ms machine CPU", ln)
               for ln in lines), lines


@pytest.mark.parametrize("argv", [["0"], ["-5"], ["many"], ["10001"], ["3", "4"]])
def test_exec_bench_refuses_a_bad_count_with_its_usage(capsys, argv, way_in):
    from harness import exec_bench

    assert exec_bench.main(argv) == 2
    assert capsys.readouterr().err.startswith("usage: python -m harness.exec_bench [N]")
