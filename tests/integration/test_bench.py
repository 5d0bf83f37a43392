"""`runbook bench` end to end at a tiny size: real influxd containers, both
releases' clients, openssl speed; the result renders on the cost page.
A functional check only: its numbers are not a measurement."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.bench import HEADLINES, run

pytestmark = pytest.mark.server
ROOT = Path(__file__).resolve().parents[2]


def test_a_tiny_bench_gives_every_ratio_an_interval_and_the_page_renders(runbook_image):
    result = run(rounds=3, batches=1, batch_size=1000, pings=10, query_points=10_000,
                 release_rounds=2, progress=lambda _: None)
    assert set(result["headline"]) == set(HEADLINES)
    for h in result["headline"].values():
        assert h["low"] <= h["value"] <= h["high"]
    e = result["encryption"]
    assert 0 < e["write_ratio_floor"] <= 1 <= e["query_ratio_ceiling"]
    releases = result["client_releases"]["releases"]
    assert set(releases) == {"bookworm", "trixie"}
    assert releases["bookworm"]["openssl"].startswith("OpenSSL 3.0")
    assert releases["trixie"]["openssl"].startswith("OpenSSL 3.5")
    # influxd offers no X25519 (nor ML-KEM): both get a HelloRetryRequest
    assert releases["bookworm"]["client_hellos"] == releases["trixie"]["client_hellos"] == 2
    assert releases["trixie"]["client_hello_bytes"][0] > releases["bookworm"][
        "client_hello_bytes"][0] + 1000  # the ML-KEM-768 key share
    from site_hooks.bench import _render

    rendered = _render(result)
    assert "Not measured" not in "".join(rendered.values())
