"""The binary tab's systemd unit: the page prints it, the hidden set-ups
install harness/page_setup/influxdb.service. They must be the same file."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def page_unit() -> str:
    text = (ROOT / "docs" / "configure.md").read_text()
    # The block sits in a tab (and a box): its lines carry the EOF line's indent.
    found = re.search(r"cat > /etc/systemd/system/influxdb\.service <<'EOF'\n(.*?)\n( *)EOF\n",
                      text, re.S)
    assert found, "configure.md no longer writes /etc/systemd/system/influxdb.service"
    return "".join(line.removeprefix(found[2]) + "\n" for line in found[1].splitlines())


def test_the_unit_the_page_prints_is_the_one_the_hidden_set_ups_install():
    assert page_unit() == (ROOT / "harness" / "page_setup" / "influxdb.service").read_text()


def test_the_unit_reads_the_settings_file_every_page_edits():
    unit = page_unit()
    assert "Environment=INFLUXD_CONFIG_PATH=/etc/influxdb/config.toml\n" in unit
    assert "User=influxdb\n" in unit and "WantedBy=multi-user.target\n" in unit
