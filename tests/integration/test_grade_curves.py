"""Key-exchange group order against real influxd: X25519 first costs a HelloRetryRequest.

runbook.tls.groups sets the ordered group list the bench offers; these tests
show that the list is really applied (X25519 alone is refused, as openssl
s_client sees it too) and that X25519 first makes two ClientHellos.
"""

from __future__ import annotations

import socket
import ssl

import pytest

from lab.bench import P256_FIRST, X25519_FIRST, client_hellos
from lab.server import TLSInfluxd
from runbook.tls.groups import set_groups

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(runbook_image, ca_cert_dir):
    with TLSInfluxd(cert_dir=ca_cert_dir, ca_file=ca_cert_dir / "ca.crt",
                    owner="rb-grade-test") as s:
        yield s


def handshake(server: TLSInfluxd, groups: str) -> str:
    ctx = ssl.create_default_context(cafile=str(server.ca_file))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    set_groups(ctx, groups)
    with socket.create_connection(("localhost", server.host_port), timeout=10) as sock, \
            ctx.wrap_socket(sock, server_hostname="localhost") as tls:
        return str(tls.version())


def test_x25519_alone_is_refused_so_the_list_is_applied(server):
    with pytest.raises(ssl.SSLError, match="handshake failure"):
        handshake(server, "X25519")


@pytest.mark.parametrize("groups", [X25519_FIRST, P256_FIRST])
def test_either_order_completes_a_verified_tls13_handshake(server, groups):
    assert handshake(server, groups) == "TLSv1.3"


def test_x25519_first_takes_a_hello_retry_request(server):
    assert client_hellos(server.host_port) == {X25519_FIRST: 2, P256_FIRST: 1}


def test_an_unknown_group_is_refused_by_openssl_not_ignored():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with pytest.raises(ValueError, match="refused the group list 'P-999'"):
        set_groups(ctx, "P-999")
