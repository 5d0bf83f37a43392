"""Telegraf output rendering and linting."""

from __future__ import annotations

import pytest
import tomlkit

from runbook.checks.telegraf import lint_config, render_output
from runbook.errors import UsageError


def test_ca_mode_renders_tls_ca_and_never_skip_verify():
    doc = tomlkit.parse(render_output(ca_file="/etc/telegraf/ca.crt")).unwrap()
    out = doc["outputs"]["influxdb_v2"][0]
    assert out["urls"] == ["https://localhost:8086"]
    assert out["tls_ca"] == "/etc/telegraf/ca.crt"
    assert "insecure_skip_verify" not in out


def test_self_signed_mode_renders_skip_verify_with_a_warning_comment():
    text = render_output(insecure_skip_verify=True)
    assert "insecure_skip_verify = true" in text and "NOT verified" in text


@pytest.mark.parametrize("kwargs", [
    {"url": "http://localhost:8086", "ca_file": "ca.crt"},
    {"ca_file": "ca.crt", "insecure_skip_verify": True},
    {},
])
def test_unsafe_or_impossible_combinations_are_refused(kwargs):
    with pytest.raises(UsageError):
        render_output(**kwargs)


def test_rendered_configs_lint_clean():
    assert lint_config(render_output(ca_file="ca.crt")) == []


@pytest.mark.parametrize("conf,finding", [
    ('[[outputs.influxdb_v2]]\nurls = ["http://localhost:8086"]\ntls_ca = "ca.crt"\n',
     "telegraf-http-url"),
    ('[[outputs.influxdb_v2]]\nurls = ["https://h:8086"]\ntls_ca = "ca.crt"\n'
     'insecure_skip_verify = true\n', "telegraf-skip-verify-with-ca"),
    ('[[outputs.influxdb_v2]]\nurls = ["https://h:8086"]\ntls_min_version = "TLS12"\n',
     "telegraf-tls-settings-ignored"),
    ('[[outputs.file]]\nfiles = ["stdout"]\n', "telegraf-no-influxdb-v2"),
])
def test_lint_finds_each_mistake(conf, finding):
    assert finding in {f.id for f in lint_config(conf)}
