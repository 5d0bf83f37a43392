"""harness/ordering.py: under xdist the heaviest units start first."""

from __future__ import annotations

from harness.ordering import heaviest_first, unit_weights
from harness.shard import DEFAULT_S


def test_units_go_heaviest_first_and_keep_their_own_order():
    ids = ["tests/unit/test_a.py::test_1", "tests/unit/test_a.py::test_2",
           "tests/unit/test_b.py::test_1",
           "docs/acme.md[package-trixie]::line 5", "docs/acme.md[package-trixie]::line 9",
           "harness/live-journey.yml[docker-bookworm]::configure.md::line 3",
           "harness/live-journey.yml[docker-bookworm]::configure.md::line 7"]
    weights = {"tests/unit/test_b.py": DEFAULT_S - 5,
               "docs/acme.md[package-trixie]": 50,
               "harness/live-journey.yml[docker-bookworm]": 120}
    # test_a.py has no measure: it weighs DEFAULT_S, more than test_b.py.
    assert [ids[n] for n in heaviest_first(ids, weights)] == [ids[5], ids[6], ids[3], ids[4],
                                                             ids[0], ids[1], ids[2]]


def test_equal_weights_keep_collection_order():
    ids = ["tests/unit/test_b.py::t", "tests/unit/test_a.py::t", "tests/unit/test_b.py::u"]
    assert heaviest_first(ids, {}) == [0, 2, 1]


def test_the_snapshot_weighs_every_kind_of_unit():
    # The committed snapshot names units as xdist's loadfile scopes them.
    weights = unit_weights()
    assert any(u.startswith("harness/live-journey.yml[") for u in weights)
    assert any(u.startswith("harness/journey.yml[") for u in weights)
    assert any(u.startswith("docs/") and u.endswith("]") for u in weights)
    assert "tests/integration/test_fleet.py" in weights
