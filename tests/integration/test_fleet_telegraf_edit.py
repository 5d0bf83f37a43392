"""The role's Telegraf edits (ansible/roles/influxdb_tls/tasks/main.yml), run
as Ansible runs its `replace` module (a JSON arguments file), on a
telegraf.conf with other plugins around [[outputs.influxdb_v2]]: no Docker,
no fleet. The tasks' own regular expressions are read from the role."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.fleet import NO_ANSIBLE

ROOT = Path(__file__).resolve().parents[2]
TASKS = ROOT / "ansible/roles/influxdb_tls/tasks/main.yml"
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


def telegraf_tasks() -> list[dict]:
    """The `replace` tasks of the role's Telegraf block, in order."""
    def walk(tasks):
        for task in tasks:
            yield task
            for key in ("block", "rescue", "always"):
                yield from walk(task.get(key, []))

    found = [t for t in walk(yaml.safe_load(TASKS.read_text()))
             if "ansible.builtin.replace" in t and "telegraf" in t["name"].lower()]
    assert len(found) == 3, [t["name"] for t in found]
    return found


def run_tasks(conf: Path, tmp_path: Path) -> list[bool]:
    """Each task once, as Ansible would with this host's values; whether it changed the file."""
    changed = []
    for task in telegraf_tasks():
        args = {k: v for k, v in task["ansible.builtin.replace"].items()}
        args["path"] = str(conf)
        args["replace"] = (args["replace"].replace("{{ _influxdb_tls_https }}", HTTPS)
                           .replace("{{ _influxdb_tls_ca }}", CA))
        spec = tmp_path / "args.json"
        spec.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        # As a module (-m): run as a script, its folder would shadow the
        # standard library's tempfile with Ansible's tempfile module.
        proc = subprocess.run([sys.executable, "-m", "ansible.modules.replace", str(spec)],
                              capture_output=True, text=True, timeout=60)
        assert proc.stdout, proc.stderr[-2000:]
        result = json.loads(proc.stdout)
        assert not result.get("failed"), result
        changed.append(result["changed"])
    return changed


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    try:
        import ansible  # noqa: F401
    except ImportError:
        pytest.fail(NO_ANSIBLE.format(bin=Path(sys.executable).parent))
    path = tmp_path / "telegraf.conf"
    path.write_text(CONF)
    return path


def test_only_the_influxdb_v2_output_moves_to_https_and_trusts_the_ca(conf, tmp_path):
    assert any(run_tasks(conf, tmp_path))
    text = conf.read_text()
    assert 'urls = ["http://localhost:9100/metrics"]\n  tls_ca = "/etc/prometheus/ca.pem"' in text
    assert f'urls = ["{HTTPS}"]\n  tls_ca = "{CA}"\n  token' in text
    assert text.count("tls_ca") == 2
    assert text.endswith('[[outputs.file]]\n  files = ["stdout"]\n')


def test_a_second_run_changes_nothing(conf, tmp_path):
    run_tasks(conf, tmp_path)
    first = conf.read_text()
    assert run_tasks(conf, tmp_path) == [False, False, False]
    assert conf.read_text() == first


def test_an_existing_tls_ca_of_the_output_is_set_in_place_not_repeated(conf, tmp_path):
    conf.write_text(CONF.replace('  bucket = "telegraf"\n',
                                 '  bucket = "telegraf"\n  tls_ca = "/old/ca.crt"\n'))
    run_tasks(conf, tmp_path)
    text = conf.read_text()
    assert f'  bucket = "telegraf"\n  tls_ca = "{CA}"\n' in text
    assert "/old/ca.crt" not in text
    assert text.count("tls_ca") == 2


def test_the_output_as_the_last_section_is_edited_too(conf, tmp_path):
    conf.write_text(CONF.split("[[outputs.file]]")[0].rstrip() + "\n")
    run_tasks(conf, tmp_path)
    text = conf.read_text()
    assert text.endswith(f'urls = ["{HTTPS}"]\n  tls_ca = "{CA}"\n  token = "${{INFLUX_TOKEN}}"\n'
                         '  organization = "runbook"\n  bucket = "telegraf"\n')


def test_a_multi_line_urls_array_under_an_indented_header_stays_valid_toml(conf, tmp_path):
    multi_line = '  urls = [\n    "http://127.0.0.1:8086",\n  ]  # the local server\n'
    conf.write_text(CONF.replace('  urls = ["http://127.0.0.1:8086"]\n', multi_line)
                    .replace("[[outputs.influxdb_v2]]", "  [[outputs.influxdb_v2]]"))
    run_tasks(conf, tmp_path)
    data = tomllib.loads(conf.read_text())
    assert data["outputs"]["influxdb_v2"][0]["urls"] == [HTTPS]
    assert data["outputs"]["influxdb_v2"][0]["tls_ca"] == CA
    assert data["inputs"]["prometheus"][0] == {"urls": ["http://localhost:9100/metrics"],
                                               "tls_ca": "/etc/prometheus/ca.pem"}
    assert run_tasks(conf, tmp_path) == [False, False, False]
