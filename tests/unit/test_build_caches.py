"""The set-up steps' caches (scripts/uv.sh, scripts/build-client-kit.sh):
what a fresh checkout takes from the build cache, and what a failed or
interrupted step leaves there (nothing half-made)."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PINS = (ROOT / "versions.env").read_text().splitlines()
UV_VERSION = next(line.split("=", 1)[1].strip() for line in PINS if line.startswith("UV_VERSION="))


def checkout(tmp_path: Path) -> Path:
    """The scripts and pins of a checkout, in a folder of their own."""
    root = tmp_path / "checkout"
    (root / "scripts").mkdir(parents=True)
    for name in ("uv.sh", "build-client-kit.sh"):
        shutil.copy2(ROOT / "scripts" / name, root / "scripts" / name)
    shutil.copy2(ROOT / "versions.env", root / "versions.env")
    return root


def run(script: Path, cache: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(script), *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "RUNBOOK_CACHE": str(cache), **env})


def test_uv_from_an_unreachable_index_is_a_named_error_and_leaves_no_half_made_uv(tmp_path):
    root, cache = checkout(tmp_path), tmp_path / "cache"
    proc = run(root / "scripts" / "uv.sh", cache, PIP_INDEX_URL="http://127.0.0.1:9/simple",
               PIP_RETRIES="0", PIP_TIMEOUT="2", PIP_NO_CACHE_DIR="1", PIP_FIND_LINKS="")
    assert proc.returncode == 1, proc.stderr
    assert f"pip could not install uv=={UV_VERSION}" in proc.stderr
    assert "check that PyPI answers" in proc.stderr
    assert proc.stdout == ""  # the caller reads a path from stdout: none
    assert not (cache / f"uv-{UV_VERSION}").exists()


def test_uv_stopped_half_way_leaves_no_half_made_uv(tmp_path):
    root, cache = checkout(tmp_path), tmp_path / "cache"
    home = cache / f"uv-{UV_VERSION}"
    proc = subprocess.Popen(["bash", str(root / "scripts" / "uv.sh")], start_new_session=True,
                            env={**os.environ, "RUNBOOK_CACHE": str(cache)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (home / "bin" / "python").exists():  # the venv exists; uv is not in it yet
        assert proc.poll() is None, "uv.sh ended before it made its venv"
        assert time.monotonic() < deadline, "waited 60 s for uv.sh to create its venv"
        time.sleep(0.01)  # a poll of the folder, bounded by the deadline above
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)
    assert proc.returncode != 0
    assert not home.exists()


def test_a_uv_in_the_cache_is_reused_without_pip(tmp_path):
    root, cache = checkout(tmp_path), tmp_path / "cache"
    home = cache / f"uv-{UV_VERSION}"
    (home / "bin").mkdir(parents=True)
    (home / ".installed").touch()
    # An index that cannot answer: a reuse never asks it.
    proc = run(root / "scripts" / "uv.sh", cache, PIP_INDEX_URL="http://127.0.0.1:9/simple")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(home / "bin" / "uv")
    assert "installing" not in proc.stderr


def kit_stamp(root: Path) -> str:
    return subprocess.run(["bash", str(root / "scripts" / "build-client-kit.sh"), "--stamp"],
                          capture_output=True, text=True, check=True).stdout.strip()


def cached_kit(cache: Path, stamp: str, script: Path) -> Path:
    """A kit in the build cache, where the script looks: under its stamp and
    the script's own text."""
    key = hashlib.sha256(stamp.encode() + b"\n" + script.read_bytes()).hexdigest()[:16]
    folder = cache / "client-kit" / key
    (folder / "wheels").mkdir(parents=True)
    (folder / "wheels" / "influxdb_client.whl").write_bytes(b"a wheel fetched before")
    return folder


def test_a_kit_in_the_build_cache_is_copied_into_a_fresh_checkout(tmp_path):
    root, cache = checkout(tmp_path), tmp_path / "cache"
    stamp = kit_stamp(root)
    folder = cached_kit(cache, stamp, root / "scripts" / "build-client-kit.sh")
    (folder / "stamp").write_text(stamp + "\n")
    proc = run(root / "scripts" / "build-client-kit.sh", cache, PIP="/nonexistent/pip")
    assert proc.returncode == 0, proc.stderr
    kit = root / "build" / "client-kit"
    assert proc.stdout.strip() == str(kit)
    assert "copied from the build cache" in proc.stderr
    assert (kit / "wheels" / "influxdb_client.whl").read_bytes() == b"a wheel fetched before"
    assert (kit / "stamp").read_text().strip() == stamp
    assert [p.name for p in (root / "build").iterdir()] == ["client-kit"]  # no temporary left


@pytest.mark.parametrize("stamp_file", ["absent", "another version"])
def test_a_cached_kit_without_its_stamp_is_not_taken_for_a_kit(tmp_path, stamp_file):
    root, cache = checkout(tmp_path), tmp_path / "cache"
    folder = cached_kit(cache, kit_stamp(root), root / "scripts" / "build-client-kit.sh")
    if stamp_file != "absent":
        (folder / "stamp").write_text("python=0.0 js=0.0\n")
    # It goes on to fetch the kit: with a pip that does not exist, that fails at once.
    proc = run(root / "scripts" / "build-client-kit.sh", cache, PIP="/nonexistent/pip")
    assert proc.returncode != 0
    assert "/nonexistent/pip" in proc.stderr  # it went on to fetch
    assert "copied from the build cache" not in proc.stderr
    assert not (root / "build" / "client-kit").exists()
    assert [p.name for p in (root / "build").iterdir()] == []  # its temporary folder is gone
