"""The kinds of host a docs page runs on: one entry per kind, nothing else.

A page lists the hosts it supports in its front matter (`hosts: [package,
docker, binary]`; default: binary). Blocks outside any host tab run on every
host; a block inside a content tab titled with a host's `tab` runs on that
host only (a tab in SHARED_TABS on each host it names). Each kind's module
provides the same four functions:

    build_image(release) -> str   build or reuse the host's image on that
                                  Debian release; its tag
    run_kwargs(release) -> dict   docker SDK `containers.run` arguments
    wait_ready(container, deadline_s) -> float   poll until usable
    log_tail(container, lines) -> str            where this host's influxd logs

Adding a host (rpm, Kubernetes) is one entry here and one such module.
"""

from __future__ import annotations

import importlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


# The first of versions.env's DEBIAN_RELEASES: its images keep the plain names.
DEFAULT_RELEASE = "bookworm"


class HostNotReady(Exception):
    """A host could not be built or did not come up; the one-line message says
    what was waited for, what is missing and the fix."""


def run_script(path: str, *args: str, env: dict[str, str] | None = None) -> str:
    """Run the script at PATH from the repo root (its progress goes to
    stderr), with `env` added to this process's environment; returns its stdout."""
    proc = subprocess.run(["bash", str(ROOT / path), *args],
                          stdout=subprocess.PIPE, text=True,
                          env={**os.environ, **env} if env else None)
    if proc.returncode != 0:
        raise HostNotReady(f"{path} failed (exit {proc.returncode}); its messages are "
                           f"above. Fix: run `bash {path}` and read its output.")
    return proc.stdout


def release_env(name: str, release: str) -> str:
    """The environment variable that pins a host image of that release: NAME
    for the first release, NAME_RELEASE for the others."""
    return name if release == DEFAULT_RELEASE else f"{name}_{release.upper()}"


def last_line(text: str) -> str:
    """The last line a build script printed: the image tag."""
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


@dataclass(frozen=True)
class HostKind:
    name: str    # in test ids, method-release: docs/page.md[package-trixie]
    tab: str     # the content-tab title that holds this host's own blocks
    module: str  # the module with build_image, run_kwargs, wait_ready, log_tail
    kind: str                 # the install method (package, docker, binary)
    release: str = "bookworm"  # the Debian release of its image (scripts/release.sh)

    @property
    def method(self) -> str:
        """The install method: what a page's tabs and steps are written for."""
        return self.kind

    def impl(self) -> ModuleType:
        return importlib.import_module(self.module)


HOSTS: dict[str, HostKind] = {
    h.name: h
    for h in (
        HostKind("package-bookworm", "Linux package", "harness.hosts.package.host", "package"),
        HostKind("docker-bookworm", "Docker", "harness.hosts.docker.host", "docker"),
        HostKind("binary-bookworm", "Binary", "harness.hosts.binary.host", "binary"),
        # Debian 13: the same install methods on trixie's own packages.
        HostKind("package-trixie", "Linux package", "harness.hosts.package.host", "package",
                 "trixie"),
        HostKind("binary-trixie", "Binary", "harness.hosts.binary.host", "binary", "trixie"),
        HostKind("docker-trixie", "Docker", "harness.hosts.docker.host", "docker", "trixie"),
    )
}
# Tabs whose steps are the same for several install methods: after
# configure.md, the binary host runs influxd under a systemd unit named like
# the package's.
SHARED_TABS: dict[str, frozenset[str]] = {
    "Linux package or binary": frozenset({"package", "binary"}),
}
# A tab title: the install methods whose hosts run the blocks in it.
TAB_TO_HOSTS: dict[str, frozenset[str]] = {
    **{h.tab: frozenset({h.method}) for h in HOSTS.values()}, **SHARED_TABS}
DEFAULT_HOSTS = ("binary-bookworm",)
