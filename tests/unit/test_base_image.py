"""The demo's base choice without a registry that serves the image: the local
build, and a line that says why (real sockets on loopback, no mocks)."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from lab.base_image import BaseChoice, choose_base, official_image, probe_url, why_no_answer


def test_docker_hub_serves_the_short_name_other_registries_their_own():
    assert official_image("registry-1.docker.io", "2.9.1") == "influxdb:2.9.1"
    assert official_image("localhost:5000", "2.9.1") == "localhost:5000/influxdb:2.9.1"


def test_loopback_registries_are_asked_over_http_others_over_https():
    assert probe_url("localhost:5000") == "http://localhost:5000/v2/"
    assert probe_url("127.0.0.1:5000") == "http://127.0.0.1:5000/v2/"
    assert probe_url("[::1]:5000") == "http://[::1]:5000/v2/"
    assert probe_url("registry-1.docker.io") == "https://registry-1.docker.io/v2/"


def test_the_line_names_the_base_and_why():
    assert BaseChoice("influxdb:2.9.1", "from registry-1.docker.io").line() == \
        "base image: influxdb:2.9.1 from registry-1.docker.io"
    assert BaseChoice(None, "registry-1.docker.io did not answer within 5 s").line() == \
        "base image: local build (registry-1.docker.io did not answer within 5 s)"


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield int(s.getsockname()[1])


@pytest.fixture
def registry_stub_port() -> Iterator[int]:
    """An HTTP server that answers /v2/ as Docker Hub does before a login: 401."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(401 if self.path == "/v2/" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_refused_connection_chooses_the_local_build_at_once(closed_port):
    started = time.monotonic()
    choice = choose_base(f"127.0.0.1:{closed_port}", "2.9.1")
    assert time.monotonic() - started < 2
    assert choice.image is None
    assert choice.line() == (f"base image: local build (127.0.0.1:{closed_port} did not answer: "
                             "Connection refused)")


def test_a_silent_registry_chooses_the_local_build_at_the_deadline(silent_port):
    started = time.monotonic()
    choice = choose_base(f"127.0.0.1:{silent_port}", "2.9.1", timeout=1)
    took = time.monotonic() - started
    assert 1 <= took < 2.5
    assert choice.line() == (f"base image: local build (127.0.0.1:{silent_port} did not answer "
                             "within 1 s)")


def test_an_unresolvable_name_chooses_the_local_build():
    choice = choose_base("registry.invalid", "2.9.1", timeout=3)
    assert choice.image is None
    assert choice.reason.startswith("registry.invalid did not answer")


def test_a_401_is_an_answer(registry_stub_port, closed_port):
    assert why_no_answer(f"127.0.0.1:{registry_stub_port}", 2) is None
    assert why_no_answer(f"127.0.0.1:{closed_port}", 2) is not None  # and a refusal is not
