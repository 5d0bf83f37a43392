"""tests/ansible_plugins' container_nsenter, the fleet inventory's way into a
host: Ansible finds the same container through it as through
community.docker.docker (the same user, folder, name, environment, cgroups
and namespaces), moves files both ways byte for byte, and says why when the
container is gone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.container_exec import run_in
from lab.server import OWNER_LABEL, docker_client
from tests.fleet import ANSIBLE, PLUGIN_ENV, connection_vars, require_ansible

pytestmark = pytest.mark.server

# What a command can see of where it runs (Ansible's own variables aside).
WHERE = ('id -u; pwd; hostname; printenv | grep -v -e "^_=" -e "^ANSIBLE_" -e "^SHLVL=" | sort; '
         'cat /proc/self/cgroup; readlink /proc/self/ns/pid /proc/self/ns/mnt /proc/self/ns/net')


def start_box(image: str):
    return docker_client().containers.run(image, ["sleep", "infinity"], entrypoint=[],
                                          detach=True, user="root",
                                          labels={OWNER_LABEL: "pytest"})


@pytest.fixture(autouse=True)
def nsenter_allowed(monkeypatch):
    """The plugin under test, whatever way in the run's harness uses."""
    monkeypatch.delenv("RUNBOOK_EXEC", raising=False)


@pytest.fixture(scope="module")
def box(runbook_image):
    require_ansible()
    container = start_box(runbook_image)
    yield container
    container.remove(force=True, v=True)


def reach(container, way: str) -> dict:
    """The inventory variables that reach `container` one way; nsenter must
    be usable where make test runs (root, util-linux's nsenter)."""
    hostvars = connection_vars(container, way)
    if way == "nsenter":
        assert hostvars["ansible_connection"] == "container_nsenter", (
            "make test runs as root with util-linux's nsenter: the harness must be able to use it")
    return hostvars


def ansible(tmp_path: Path, hostvars: dict, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`ansible box ARGS` against an inventory of one host with these variables."""
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"box": hostvars}}}))
    env = {**os.environ, **PLUGIN_ENV, "ANSIBLE_CONFIG": str(ANSIBLE / "ansible.cfg"),
           "ANSIBLE_NOCOLOR": "1", "HOME": str(tmp_path), **env}
    return subprocess.run([str(Path(sys.executable).parent / "ansible"), "box", "-i",
                           str(inventory), *args], cwd=ANSIBLE, env=env, capture_output=True,
                          text=True, timeout=120)


def task(tmp_path: Path, hostvars: dict, *args: str) -> subprocess.CompletedProcess:
    """ansible() with its result as JSON (the json callback)."""
    return ansible(tmp_path, hostvars, *args, ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
                   ANSIBLE_STDOUT_CALLBACK="json")


def result(proc: subprocess.CompletedProcess) -> dict:
    """The task's result for the one host, from the json callback."""
    data = json.loads(proc.stdout[proc.stdout.index("{"):])
    return data["plays"][0]["tasks"][0]["hosts"]["box"]


def test_a_task_sees_the_same_container_through_nsenter_as_through_docker_exec(tmp_path, box):
    seen = {}
    for way in ("nsenter", "docker"):
        proc = task(tmp_path, reach(box, way), "-m", "ansible.builtin.shell", "-a", WHERE)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        seen[way] = result(proc)["stdout"]
    assert seen["nsenter"] == seen["docker"]
    assert seen["nsenter"].startswith("0\n")  # root, as the fleet's hosts are reached


def test_files_go_in_and_come_back_byte_for_byte(tmp_path, box):
    payload = bytes(range(256)) * 64 + b"\n\x00 no newline at the end"
    (tmp_path / "payload").write_bytes(payload)
    proc = task(tmp_path, reach(box, "nsenter"), "-m", "ansible.builtin.copy",
                   "-a", f"src={tmp_path / 'payload'} dest=/tmp/payload mode=0600")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    there = run_in(box, ["sha256sum", "/tmp/payload"])
    assert there.exit_code == 0, there.stderr
    assert there.stdout.split()[0] == subprocess.run(
        ["sha256sum", str(tmp_path / "payload")], capture_output=True, text=True,
        check=True).stdout.split()[0]
    proc = task(tmp_path, reach(box, "nsenter"), "-m", "ansible.builtin.fetch",
                   "-a", f"src=/tmp/payload dest={tmp_path / 'back'} flat=true")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "back").read_bytes() == payload


def test_a_container_that_is_gone_is_unreachable_with_the_reason(tmp_path, runbook_image):
    require_ansible()
    gone = start_box(runbook_image)
    try:
        hostvars = reach(gone, "nsenter")
    finally:
        gone.remove(force=True, v=True)
    proc = ansible(tmp_path, hostvars, "-m", "ansible.builtin.ping")
    assert proc.returncode == 4, proc.stdout + proc.stderr  # Ansible's "unreachable"
    assert "UNREACHABLE" in proc.stdout
    assert f"container {gone.name} is not running" in proc.stdout


def test_a_pid_in_another_mount_namespace_is_never_entered(tmp_path, box):
    """What a PID reused by another process looks like: the recorded mount
    namespace (here this machine's own) is not the process's."""
    here = os.stat("/proc/self/ns/mnt").st_ino
    hostvars = {**reach(box, "nsenter"), "ansible_nsenter_mnt_ns": here}
    proc = ansible(tmp_path, hostvars, "-m", "ansible.builtin.ping")
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert f"container {box.name} is not running" in proc.stdout
