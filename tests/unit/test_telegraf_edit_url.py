"""Telegraf's output moved to the host's HTTPS name, as the Ansible role asks
`runbook install --telegraf-url` to (the role's regexp edits once produced
invalid TOML): a telegraf.conf with other plugins around [[outputs.influxdb_v2]],
edited by the same tomlkit code as `runbook telegraf-config --edit`."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from runbook.telegraf_edit import edit_file

HTTPS = "https://eu.influxdb.example.test:8086"
CA = "/etc/ssl/influxdb/ca.crt"

CONF = """[agent]
  interval = "10s"

[[inputs.prometheus]]
  urls = ["http://localhost:9100/metrics"]
  tls_ca = "/etc/prometheus/ca.pem"

[[outputs.influxdb_v2]]
  urls = ["http://127.0.0.1:8086"]
  token = "${INFLUX_TOKEN}"
  organization = "runbook"
  bucket = "telegraf"

[[outputs.file]]
  files = ["stdout"]
"""
PROMETHEUS = CONF.split("[[outputs.influxdb_v2]]")[0]


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    path = tmp_path / "telegraf.conf"
    path.write_text(CONF)
    return path


def output(conf: Path) -> dict:
    return tomllib.loads(conf.read_text())["outputs"]["influxdb_v2"][0]


def test_only_the_influxdb_v2_output_moves_to_https_and_trusts_the_ca(conf):
    assert edit_file(conf, ca_file=CA, url=HTTPS).changes
    text = conf.read_text()
    assert text.startswith(PROMETHEUS)  # other plugins' urls and tls_ca stay as they are
    assert output(conf) == {"urls": [HTTPS], "token": "${INFLUX_TOKEN}",
                            "organization": "runbook", "bucket": "telegraf", "tls_ca": CA}
    assert text.count("tls_ca") == 2
    assert text.endswith('[[outputs.file]]\n  files = ["stdout"]\n')


def test_a_second_run_changes_nothing(conf):
    edit_file(conf, ca_file=CA, url=HTTPS)
    first = conf.read_text()
    again = edit_file(conf, ca_file=CA, url=HTTPS)
    assert (again.changes, again.backup) == ([], None)
    assert conf.read_text() == first


def test_an_existing_tls_ca_of_the_output_is_set_in_place_not_repeated(conf):
    conf.write_text(CONF.replace('  bucket = "telegraf"\n',
                                 '  bucket = "telegraf"\n  tls_ca = "/old/ca.crt"\n'))
    edit_file(conf, ca_file=CA, url=HTTPS)
    text = conf.read_text()
    assert f'  bucket = "telegraf"\n  tls_ca = "{CA}"\n' in text
    assert "/old/ca.crt" not in text
    assert text.count("tls_ca") == 2


def test_the_output_as_the_last_section_is_edited_too(conf):
    conf.write_text(CONF.split("[[outputs.file]]")[0].rstrip() + "\n")
    edit_file(conf, ca_file=CA, url=HTTPS)
    assert output(conf)["urls"] == [HTTPS] and output(conf)["tls_ca"] == CA


def test_a_multi_line_urls_array_under_an_indented_header_stays_valid_toml(conf):
    multi_line = '  urls = [\n    "http://127.0.0.1:8086",\n  ]  # the local server\n'
    conf.write_text(CONF.replace('  urls = ["http://127.0.0.1:8086"]\n', multi_line)
                    .replace("[[outputs.influxdb_v2]]", "  [[outputs.influxdb_v2]]"))
    edit_file(conf, ca_file=CA, url=HTTPS)
    data = tomllib.loads(conf.read_text())
    assert data["outputs"]["influxdb_v2"][0]["urls"] == [HTTPS]
    assert data["outputs"]["influxdb_v2"][0]["tls_ca"] == CA
    assert data["inputs"]["prometheus"][0] == {"urls": ["http://localhost:9100/metrics"],
                                               "tls_ca": "/etc/prometheus/ca.pem"}
    assert edit_file(conf, ca_file=CA, url=HTTPS).changes == []
