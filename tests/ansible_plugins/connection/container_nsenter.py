"""Ansible connection for the fleet test: a task runs in a local container
as `docker exec` would run it, entered with nsenter (the harness's
harness.container_exec.nsenter_entry: the container's namespaces, its
cgroups, its environment).

The test's inventory names it where the harness can use nsenter (root, util-linux's
nsenter); elsewhere it keeps community.docker.docker. A docker exec costs
about 70 ms of machine CPU (the CLI, the engine, containerd, runc), an
nsenter about 3 ms; the fleet test makes about 450 of them.
"""

from __future__ import annotations

import os
import subprocess

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.plugins.connection import ConnectionBase

DOCUMENTATION = """
name: container_nsenter
short_description: run tasks in a local container through nsenter (tests only)
description:
  - Runs each command with the argument prefix the test computed for the
    container (nsenter with the container's namespaces and working folder,
    after joining its cgroups), with the container's environment.
author: influx-tls-runbook
options:
  remote_addr:
    description: The container's name (shown in Ansible's output).
    vars:
      - name: ansible_host
  nsenter_argv:
    description: The command prefix that enters the container; ends with C(--).
    type: list
    elements: str
    required: true
    vars:
      - name: ansible_nsenter_argv
  nsenter_env:
    description: The environment a command gets in the container.
    type: dict
    required: true
    vars:
      - name: ansible_nsenter_env
  nsenter_pid:
    description: The container's PID 1 as seen here; gone means the container ended.
    type: int
    required: true
    vars:
      - name: ansible_nsenter_pid
  nsenter_mnt_ns:
    description: The inode of that process's mount namespace, so that a PID
      reused by another process is never taken for the container.
    type: int
    required: true
    vars:
      - name: ansible_nsenter_mnt_ns
"""


class Connection(ConnectionBase):
    transport = "container_nsenter"
    has_pipelining = True

    def _connect(self):
        pid = self.get_option("nsenter_pid")
        try:
            same = os.stat(f"/proc/{pid}/ns/mnt").st_ino == self.get_option("nsenter_mnt_ns")
        except FileNotFoundError:
            same = False
        if not same:
            raise AnsibleConnectionFailure(
                f"container {self.get_option('remote_addr')} is not running (its PID {pid} "
                "is gone, or is another process now): start the fleet again")
        self._connected = True
        return self

    def _run(self, argv: list[str], in_data: bytes | None = None) -> tuple[int, bytes, bytes]:
        self._connect()
        # No input: no stdin, as `docker exec` without -i (not the worker's).
        stdin = None if in_data is not None else subprocess.DEVNULL
        proc = subprocess.run([*self.get_option("nsenter_argv"), *argv], input=in_data,
                              stdin=stdin, capture_output=True,
                              env=self.get_option("nsenter_env"), check=False)
        return proc.returncode, proc.stdout, proc.stderr

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        return self._run(["/bin/sh", "-c", cmd], in_data)

    def put_file(self, in_path, out_path):
        super().put_file(in_path, out_path)
        with open(in_path, "rb") as source:
            data = source.read()
        rc, _, err = self._run(["/bin/sh", "-c", 'cat > "$1"', "sh", out_path], data)
        if rc != 0:
            raise AnsibleError(f"could not write {out_path} in the container: "
                               f"{err.decode(errors='replace').strip()}")

    def fetch_file(self, in_path, out_path):
        super().fetch_file(in_path, out_path)
        rc, out, err = self._run(["cat", "--", in_path])
        if rc != 0:
            raise AnsibleError(f"could not read {in_path} in the container: "
                               f"{err.decode(errors='replace').strip()}")
        with open(out_path, "wb") as target:
            target.write(out)

    def close(self):
        self._connected = False
