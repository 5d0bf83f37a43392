"""Which base the demo's image is built on: the official influxdb image where a
registry answers within a few seconds, else the local build (debootstrap and
influxd compiled from source, several minutes on a fresh machine).

`python -m lab.base_image` (scripts/build-image.sh, IMAGE_BASE=auto) prints one
line on stderr that says which base and why, and on stdout the image to build
FROM, or `local`. RUNBOOK_REGISTRY names another registry (host[:port]) that
serves `influxdb:VERSION`, e.g. a mirror or the tests' local registry.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from lab.image import influxd_version

DOCKER_HUB = "registry-1.docker.io"
REGISTRY_ENV = "RUNBOOK_REGISTRY"
PROBE_SECONDS = 5.0  # a registry that answers at all answers /v2/ well within this
PULL_SECONDS = 600.0  # the official image is about 150 MB compressed
LOCAL = "local"  # what the command prints for the local build


@dataclass(frozen=True)
class BaseChoice:
    """The image to build FROM (None: the local build), and why."""

    image: str | None
    reason: str

    def line(self) -> str:
        if self.image:
            return f"base image: {self.image} {self.reason}"
        return f"base image: local build ({self.reason})"


def official_image(registry: str, version: str) -> str:
    """`influxdb:VERSION` on Docker Hub, `REGISTRY/influxdb:VERSION` elsewhere."""
    if registry in (DOCKER_HUB, "docker.io", "index.docker.io"):
        return f"influxdb:{version}"
    return f"{registry}/influxdb:{version}"


def _is_loopback(registry: str) -> bool:
    host = urllib.parse.urlsplit(f"//{registry}").hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def probe_url(registry: str) -> str:
    # Docker itself speaks plain HTTP to a registry on a loopback address.
    scheme = "http" if _is_loopback(registry) else "https"
    return f"{scheme}://{registry}/v2/"


def why_no_answer(registry: str, timeout: float = PROBE_SECONDS) -> str | None:
    """None when the registry's /v2/ endpoint answered (any HTTP status: Docker
    Hub answers 401 until one logs in) within `timeout`, else why not."""
    outcome: list[str | None] = []

    def ask() -> None:
        try:
            # Its own timeout outlasts the deadline, so the deadline's message wins.
            with urllib.request.urlopen(probe_url(registry), timeout=timeout + 1):  # noqa: S310
                outcome.append(None)
        except urllib.error.HTTPError:
            outcome.append(None)
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            said = getattr(reason, "strerror", None) or reason
            outcome.append(f"{registry} did not answer: {said}")

    # A thread, so that the deadline also bounds name resolution, which
    # urlopen's timeout does not.
    asker = threading.Thread(target=ask, daemon=True)
    asker.start()
    asker.join(timeout)
    if not outcome:
        return f"{registry} did not answer within {timeout:g} s"
    return outcome[0]


def image_present(image: str) -> bool:
    try:
        return subprocess.run(["docker", "image", "inspect", image],  # noqa: S603, S607
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              check=False).returncode == 0
    except FileNotFoundError:  # no docker client: the local build says how to get one
        return False


def pull(image: str, timeout: float = PULL_SECONDS) -> str | None:
    """None when `docker pull` finished within `timeout`, else why not. Its
    progress (one line per layer step) goes to stderr as it comes."""
    try:
        done = subprocess.run(["docker", "pull", image],  # noqa: S603, S607
                              stdout=sys.stderr, stderr=subprocess.PIPE, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return f"pulling {image} did not finish within {timeout:g} s"
    except FileNotFoundError:
        return f"pulling {image} needs the docker client, which is missing"
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()
        return f"pulling {image} failed: {said[-1] if said else f'exit {done.returncode}'}"
    return None


def choose_base(registry: str | None = None, version: str | None = None, *,
                timeout: float = PROBE_SECONDS, pull_timeout: float = PULL_SECONDS) -> BaseChoice:
    """The official image if it is here already or the registry serves it now,
    else the local build; pulls the official image when it chooses it."""
    registry = registry or os.environ.get(REGISTRY_ENV) or DOCKER_HUB
    image = official_image(registry, version or influxd_version())
    if image_present(image):
        return BaseChoice(image, "(already in the local image store)")
    unreachable = why_no_answer(registry, timeout)
    if unreachable:
        return BaseChoice(None, unreachable)
    failed = pull(image, pull_timeout)
    if failed:
        return BaseChoice(None, f"{registry} answered, but {failed}")
    return BaseChoice(image, f"from {registry}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.base_image", description=__doc__)
    parser.add_argument("--registry",
                        help=f"host[:port] (default: ${REGISTRY_ENV} or {DOCKER_HUB})")
    parser.add_argument("--version",
                        help="influxdb's tag (default: versions.env's INFLUXD_VERSION)")
    args = parser.parse_args(argv)
    choice = choose_base(args.registry, args.version)
    print(choice.line(), file=sys.stderr)
    print(choice.image or LOCAL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
