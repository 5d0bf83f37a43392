"""Offer key-exchange groups in a chosen order from Python's ssl (OpenSSL).

Python's SSLContext can name one curve (set_ecdh_curve), not an ordered list;
the order is what decides a TLS 1.3 client's key share: OpenSSL sends a share
for the first group only. The bench needs "X25519 first, then P-256" (what
OpenSSL, Go and browsers do by default) against "P-256 first", so this calls
OpenSSL's SSL_CTX_set1_groups_list on the context's SSL_CTX through ctypes.
CPython's PySSLContext starts with PyObject_HEAD, then the SSL_CTX pointer.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import ssl
import sys

_SSL_CTRL_SET_GROUPS_LIST = 92  # OpenSSL's ssl.h: SSL_CTX_set1_groups_list is this ctrl


def _libssl() -> ctypes.CDLL:
    import _ssl  # the libssl that Python's own ssl module uses is already loaded

    lib = ctypes.CDLL(_ssl.__file__)
    lib.SSL_CTX_ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
    lib.SSL_CTX_ctrl.restype = ctypes.c_long
    return lib


def set_groups(ctx: ssl.SSLContext, groups: str) -> None:
    """Offer exactly `groups` (OpenSSL names, colon-separated, e.g. "X25519:P-256"), in order."""
    if not sys.implementation.name == "cpython":
        raise RuntimeError("set_groups reads CPython's SSLContext layout")
    ssl_ctx = ctypes.c_void_p.from_address(id(ctx) + object.__basicsize__).value
    ok = _libssl().SSL_CTX_ctrl(ssl_ctx, _SSL_CTRL_SET_GROUPS_LIST, 0,
                                ctypes.c_char_p(groups.encode()))
    if ok != 1:
        raise ValueError(f"OpenSSL refused the group list {groups!r}")
