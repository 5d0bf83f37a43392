"""make demo's image (scripts/build-image.sh, IMAGE_BASE=auto) against a real
local registry (Debian's docker-registry) and a real engine: FROM the
registry's influxdb image when it serves one, the local build otherwise."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.base_image import choose_base, official_image, why_no_answer
from lab.image import influxd_version
from lab.server import docker_client
from runbook.poll import poll_until

pytestmark = pytest.mark.server

ROOT = Path(__file__).parents[2]
REGISTRY_BIN = "/usr/bin/docker-registry"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def registry() -> Iterator[str]:
    """A registry on loopback, storing in a temporary folder; stopped and
    removed after the module. Installs Debian's docker-registry if missing."""
    if not os.path.exists(REGISTRY_BIN):
        subprocess.run([ROOT / "scripts" / "apt-install.sh", "docker-registry"], check=True)
    folder = Path(tempfile.mkdtemp(prefix="runbook-registry-"))
    port = free_port()
    address = f"localhost:{port}"  # Docker pushes to a loopback registry over plain HTTP
    config = folder / "config.yml"
    config.write_text(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {folder}/data\n"
                      f"http:\n  addr: 127.0.0.1:{port}\n")
    log = folder / "registry.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([REGISTRY_BIN, "serve", str(config)], stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        poll_until(lambda: why_no_answer(address, 1) is None, what=f"the registry at {address}",
                   timeout=30, on_timeout=lambda: log.read_text()[-2000:])
        yield address
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def fresh_name() -> Iterator[str]:
    """An image name no one else uses; every tag of it is removed after."""
    name = f"runbook-test-demo-image-{uuid.uuid4().hex[:8]}"
    yield name
    client = docker_client()
    for image in client.images.list(name=name):
        for tag in image.tags:
            client.images.remove(tag)


def build_auto(name: str | None, registry: str) -> subprocess.CompletedProcess[str]:
    """make demo-image's build, asking `registry`, under image name `name`."""
    env = {**os.environ, "IMAGE_BASE": "auto", "RUNBOOK_REGISTRY": registry,
           "PYTHON": sys.executable}
    if name:
        env["RUNBOOK_IMAGE_NAME"] = name
    done = subprocess.run([ROOT / "scripts" / "build-image.sh"], env=env, capture_output=True,
                          text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def base_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("base image: ")]


def test_a_registry_without_the_image_chooses_the_local_build(registry):
    choice = choose_base(registry, "0.0.0-none")
    assert choice.image is None
    assert choice.reason.startswith(
        f"{registry} answered, but pulling {registry}/influxdb:0.0.0-none failed: ")


@pytest.fixture
def served_base(registry, runbook_image) -> Iterator[str]:
    """The local build, pushed as REGISTRY/influxdb:VERSION, its local tag
    removed again so that the choice has to pull it."""
    client = docker_client()
    ref = official_image(registry, influxd_version())
    repository, tag = ref.rsplit(":", 1)
    client.images.get(runbook_image).tag(repository, tag)
    try:
        pushed = subprocess.run(["docker", "push", ref], capture_output=True, text=True,
                                timeout=300, check=False)
        assert pushed.returncode == 0, f"docker push {ref}: {pushed.stderr[-2000:]}"
    finally:
        client.images.remove(ref)  # a tag only: runbook_image keeps the image
    yield ref
    if ref in [t for image in client.images.list(name=repository) for t in image.tags]:
        client.images.remove(ref)  # what the choice pulled


def test_the_demo_image_is_built_from_the_registrys_influxdb(registry, served_base, fresh_name):
    done = build_auto(fresh_name, registry)
    assert base_lines(done.stderr) == [f"base image: {served_base} from {registry}"]
    built = done.stdout.strip().splitlines()[-1]
    assert built.startswith(f"{fresh_name}:official-")
    client = docker_client()
    image, base = client.images.get(built), client.images.get(served_base)
    assert image.labels["runbook.base"] == served_base
    # FROM it: every layer of the base is the start of the image's layers.
    base_layers = base.attrs["RootFS"]["Layers"]
    assert image.attrs["RootFS"]["Layers"][:len(base_layers)] == base_layers
    assert image.attrs["RootFS"]["Layers"] != base_layers  # and Dockerfile.official's on top
    assert client.images.get(f"{fresh_name}:latest").id == image.id  # what the demo runs
    # Not run(remove=True): docker-py then removes the container without the
    # anonymous volumes of the image's VOLUME lines, and they pile up.
    telegraf = client.containers.run(built, ["telegraf", "--version"], detach=True)
    try:
        assert telegraf.wait(timeout=60)["StatusCode"] == 0
        assert telegraf.logs(stderr=False).decode().startswith("Telegraf 1.39.3")
    finally:
        telegraf.remove(force=True, v=True)


def test_no_answer_chooses_the_local_build(runbook_image):
    """The same local image the tests run on (the fixture built it: cached
    here), under the name versions.env gives it (or $RUNBOOK_IMAGE_NAME)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)  # accepts, never answers
        silent = f"127.0.0.1:{s.getsockname()[1]}"
        done = build_auto(None, silent)
    assert base_lines(done.stderr) == [f"base image: local build ({silent} did not answer "
                                       "within 5 s)"]
    built = done.stdout.strip().splitlines()[-1]
    assert built == runbook_image
    name = built.rsplit(":", 1)[0]
    assert docker_client().images.get(f"{name}:latest").id == docker_client().images.get(built).id
