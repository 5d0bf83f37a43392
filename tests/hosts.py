"""The kinds of host a docs page runs on: one entry per kind, nothing else.

A page lists the hosts it supports in its front matter (`hosts: [package,
docker, binary]`; default: binary). Blocks outside any host tab run on every
host; a block inside a content tab titled with a host's `tab` runs on that
host only. Each kind's module provides the same four functions:

    build_image() -> str          build or reuse the host's image; its tag
    run_kwargs() -> dict          docker SDK `containers.run` arguments
    wait_ready(container, deadline_s) -> float   poll until usable
    log_tail(container, lines) -> str            where this host's influxd logs

Adding a host (rpm, Kubernetes) is one entry here and one such module.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class HostKind:
    name: str    # in test ids: docs/page.md[name]
    tab: str     # the content-tab title that holds this host's own blocks
    module: str  # the module with build_image, run_kwargs, wait_ready, log_tail

    def impl(self) -> ModuleType:
        return importlib.import_module(self.module)


HOSTS: dict[str, HostKind] = {
    h.name: h
    for h in (
        HostKind("package", "Linux package", "tests.host_package"),
        HostKind("docker", "Docker", "tests.host_docker"),
        HostKind("binary", "Binary", "tests.host_binary"),
    )
}
TAB_TO_HOST = {h.tab: h.name for h in HOSTS.values()}
DEFAULT_HOSTS = ("binary",)
