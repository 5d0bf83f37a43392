"""tests/heaviest_first.py: xdist gets the longest units first, each unit's
tests still in their own order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from tests.heaviest_first import DEFAULT_S, heaviest_first, unit_seconds

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = {
    "modules_s": {"tests/unit/test_a.py": 1.0, "tests/integration/test_b.py": 100.0},
    "pages_s": {"docs/x.md[package]": 20.0, "docs/x.md[binary]": 5.0},
    "journey_s": {"docker": 40.0},
}


def ids(*nodeids: str) -> list[SimpleNamespace]:
    return [SimpleNamespace(nodeid=n) for n in nodeids]


def test_each_kind_of_unit_reads_its_own_seconds():
    assert unit_seconds(SNAPSHOT, "tests/integration/test_b.py::test_one") == 100.0
    assert unit_seconds(SNAPSHOT, "docs/x.md[package]::line 3") == 20.0
    assert unit_seconds(SNAPSHOT, "tests/journey.yml[docker]::smoke.md::line 9") == 40.0
    assert unit_seconds(SNAPSHOT, "docs/new.md[binary]::line 1") == DEFAULT_S


def test_units_go_heaviest_first_and_their_tests_keep_their_order():
    items = ids("tests/unit/test_a.py::t1", "tests/unit/test_a.py::t2",
                "docs/x.md[binary]::line 1", "docs/x.md[binary]::line 9",
                "docs/x.md[package]::line 1", "docs/x.md[package]::line 9",
                "tests/journey.yml[docker]::smoke.md::line 9",
                "tests/integration/test_b.py::t1", "tests/integration/test_b.py::t2")
    got = [i.nodeid for i in heaviest_first(items, SNAPSHOT)]
    assert got == ["tests/integration/test_b.py::t1", "tests/integration/test_b.py::t2",
                   "tests/journey.yml[docker]::smoke.md::line 9",
                   "docs/x.md[package]::line 1", "docs/x.md[package]::line 9",
                   "docs/x.md[binary]::line 1", "docs/x.md[binary]::line 9",
                   "tests/unit/test_a.py::t1", "tests/unit/test_a.py::t2"]


def collected(*args: str) -> list[str]:
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", *args],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return [line for line in out.stdout.splitlines() if "::" in line]


def test_the_real_suite_is_handed_out_heaviest_first_only_with_loadfile():
    # The fleet rollout weighs minutes in the snapshot, serial_hex a fraction
    # of a second; given light first, loadfile must hand out the fleet first.
    paths = ("tests/unit/test_serial_hex.py", "tests/integration/test_fleet.py")
    plain = collected(*paths)
    ordered = collected("--dist", "loadfile", *paths)
    fleet = [n for n in plain if n.startswith("tests/integration/test_fleet.py")]
    light = [n for n in plain if n.startswith("tests/unit/test_serial_hex.py")]
    assert plain == light + fleet, "without loadfile the given order stays"
    assert ordered == fleet + light
