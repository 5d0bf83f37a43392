"""scripts/shard.py: every unit of the suite runs in exactly one CI shard."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "shard.py"
spec = importlib.util.spec_from_file_location("shard", SCRIPT)
shard = importlib.util.module_from_spec(spec)
spec.loader.exec_module(shard)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7])
def test_every_unit_lands_in_exactly_one_shard(n):
    picked = [u for k in range(1, n + 1) for u in shard.shard(k, n)]
    assert sorted(picked) == sorted(shard.units())
    assert len(picked) == len(set(picked))


def test_the_journey_and_every_page_are_units():
    units = shard.units()
    assert "tests/journey.yml" in units and "docs/configure.md" in units
    assert "tests/unit/test_shard.py" in units


def test_bad_arguments_get_the_usage_line_and_exit_2():
    out = subprocess.run([sys.executable, str(SCRIPT), "5", "4"], capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.startswith("usage: scripts/shard.py K N")


def test_shard_provenance_reports_merge_into_one_for_the_site(tmp_path):
    a = {"influxd": "2.9.1", "pages": {"configure.md": {"package": {"passed": 3, "date": "d1"}}}}
    b = {"influxd": "2.9.1", "pages": {"configure.md": {"binary": {"passed": 2, "date": "d1"}},
                                       "smoke.md": {"docker": {"passed": 1, "date": "d2"}}}}
    for name, data in (("a.json", a), ("b.json", b)):
        (tmp_path / name).write_text(__import__("json").dumps(data))
    script = SCRIPT.parent / "merge-provenance.py"
    out = tmp_path / "merged.json"
    done = subprocess.run([sys.executable, str(script), str(out), str(tmp_path / "a.json"),
                           str(tmp_path / "b.json")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    merged = __import__("json").loads(out.read_text())
    assert set(merged["pages"]["configure.md"]) == {"package", "binary"}
    assert merged["pages"]["smoke.md"]["docker"]["passed"] == 1
