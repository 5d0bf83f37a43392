"""Fixtures for tests against a real influxd in Docker (marker: server)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from harness.plugin import _ensure_image
from runbook.tls import certs


@pytest.fixture(scope="session")
def runbook_image() -> str:
    """Starts the Docker engine and builds the image if needed; never skips."""
    image = _ensure_image()
    os.environ["RUNBOOK_IMAGE"] = image
    return image


@pytest.fixture(scope="session")
def cert_root():
    """A folder influxd's uid can traverse (pytest's tmp_path is 0700 root-only)."""
    root = Path(tempfile.mkdtemp(prefix="runbook-certs-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def cert_dir(cert_root, request) -> Path:
    path = cert_root / request.node.name.replace("/", "_")[:60]
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def local_ca() -> certs.CA:
    return certs.CA.create()


@pytest.fixture(scope="session")
def ca_cert_dir(cert_root, local_ca) -> Path:
    return certs.write_server_dir(cert_root / "ca-signed", local_ca.issue(), local_ca)
