"""docs/telegraf.md's shell steps ("Switch the output to HTTPS"), exactly as
printed, against a reader's configurations good and bad, with the real
Telegraf's `config check`: the reader's file is changed only when the
result loads, a second run changes nothing, and a file the steps cannot
handle is named by the step that stops (a count other than 1, Telegraf's
own `invalid TOML syntax`) and left as it was."""

from __future__ import annotations

import os
import stat
import subprocess
import tomllib
from pathlib import Path

import pytest

from harness.pages import page_plan
from lab.image import BUILD_CACHE

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "telegraf.md"
VERSIONS = dict(line.split("=", 1) for line in (ROOT / "versions.env").read_text().splitlines()
                if "=" in line and not line.startswith("#"))

pytestmark = pytest.mark.server  # needs the built telegraf binary (make images)


@pytest.fixture(scope="module")
def telegraf_bin(tmp_path_factory) -> Path:
    subprocess.run(["bash", str(ROOT / "scripts" / "build-binaries.sh"), "telegraf"], check=True,
                   stdout=subprocess.DEVNULL)
    binary = BUILD_CACHE / "bin" / f"telegraf-{VERSIONS['TELEGRAF_VERSION']}"
    folder = tmp_path_factory.mktemp("bin")
    (folder / "telegraf").symlink_to(binary)
    return folder


def switch_blocks() -> list[tuple[int, str]]:
    """The visible bash blocks of the section, up to the runbook box, as the Linux
    package tab shows them: (line, code)."""
    text = PAGE.read_text()
    lines = text.splitlines()
    first = lines.index("## Switch the output to HTTPS") + 1
    last = next(n for n, line in enumerate(lines, 1) if line.startswith('??? tip "The same'))
    _, plan = page_plan(PAGE)
    return [(p.block.lineno, p.block.code) for p in plan
            if first < p.block.lineno < last and not p.hidden and p.block.syntax == "bash"
            and p.runs_on("package-bookworm")]  # the Linux package tab: telegraf on this machine


CA = "/etc/ssl/influxdb/ca.crt"


@pytest.fixture
def ca_file(tmp_path) -> Path:
    """A real CA certificate: Telegraf's config check reads the file tls_ca names."""
    from runbook.tls import certs

    ca = certs.CA.create()
    ca.write(tmp_path / "ca.crt", tmp_path / "ca.key")
    return tmp_path / "ca.crt"


def run_steps(etc: Path, path_dir: Path, ca: Path, *, keep_going: bool = False
              ) -> list[subprocess.CompletedProcess[str]]:
    """Run the steps in order, as a reader does, until one fails (with
    `keep_going`: all of them, as a careless reader pasting the lot);
    /etc/telegraf is `etc`."""
    done = []
    for _, code in switch_blocks():
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c",
                               code.replace("/etc/telegraf/", f"{etc}/").replace(CA, str(ca))],
                              capture_output=True, text=True, timeout=60,
                              env={**os.environ, "PATH": f"{path_dir}:{os.environ['PATH']}"})
        done.append(proc)
        if proc.returncode != 0 and not keep_going:
            break
    return done


READER = """# mine
[agent]
  interval = "10s"

[[inputs.cpu]]

[[outputs.file]]
  files = ["stdout"]

[[outputs.influxdb_v2]]
  urls = ["http://localhost:8086"]
  token = "${INFLUX_TOKEN}"
  organization = "runbook"
  bucket = "telegraf"
  http_proxy = "http://proxy.example:3128"  # not a URL of ours: stays http
"""


def _conf(tmp_path: Path, text: str, mode: int = 0o640) -> Path:
    etc = tmp_path / "telegraf"
    etc.mkdir()
    conf = etc / "telegraf.conf"
    conf.write_text(text)
    conf.chmod(mode)
    return conf


def test_the_steps_switch_only_the_output_and_a_second_run_changes_nothing(
        tmp_path, telegraf_bin, ca_file):
    conf = _conf(tmp_path, READER)
    steps = run_steps(conf.parent, telegraf_bin, ca_file)
    assert all(p.returncode == 0 for p in steps), steps[-1]
    assert len(steps) == len(switch_blocks())
    after = tomllib.loads(conf.read_text())
    out = after["outputs"]["influxdb_v2"][0]
    assert out["urls"] == ["https://localhost:8086"]
    assert out["tls_ca"] == str(ca_file)
    assert out["http_proxy"] == "http://proxy.example:3128"
    assert after["inputs"] == {"cpu": [{}]} and after["outputs"]["file"] == [{"files": ["stdout"]}]
    assert "# mine" in conf.read_text()
    assert stat.S_IMODE(conf.stat().st_mode) == 0o640
    assert (conf.parent / "telegraf.conf.before-https").read_text() == READER
    assert steps[-1].stdout.startswith('[[outputs.influxdb_v2]]\n  urls = ["https://localhost:8086"]'
                                       f'\n  tls_ca = "{ca_file}"\n')
    once = conf.read_bytes()
    again = run_steps(conf.parent, telegraf_bin, ca_file)
    assert all(p.returncode == 0 for p in again), again[-1]
    assert conf.read_bytes() == once
    assert (conf.parent / "telegraf.conf.before-https").read_text() == READER
    assert sorted(p.name for p in conf.parent.iterdir()) == ["telegraf.conf",
                                                             "telegraf.conf.before-https"]


def test_an_output_already_on_https_with_skip_verify_ends_verified(
        tmp_path, telegraf_bin, ca_file):
    conf = _conf(tmp_path, READER.replace("http://localhost", "https://localhost").replace(
        'bucket = "telegraf"', 'bucket = "telegraf"\n  insecure_skip_verify = true'))
    steps = run_steps(conf.parent, telegraf_bin, ca_file)
    assert all(p.returncode == 0 for p in steps), steps[-1]
    out = tomllib.loads(conf.read_text())["outputs"]["influxdb_v2"][0]
    assert out["tls_ca"] == str(ca_file) and "insecure_skip_verify" not in out


@pytest.mark.parametrize("name,text,count", [
    ("two-outputs", READER + '\n[[outputs.influxdb_v2]]\n  urls = ["http://b:8086"]\n', "2"),
    ("no-output", '[[inputs.cpu]]\n[[outputs.file]]\n  files = ["stdout"]\n', "0"),
])
def test_a_file_with_other_than_one_output_is_never_replaced(tmp_path, telegraf_bin, ca_file, name,
                                                             text, count):
    conf = _conf(tmp_path, text)
    # A careless reader pastes every step although the count says stop.
    steps = run_steps(conf.parent, telegraf_bin, ca_file, keep_going=True)
    assert steps[0].stdout.strip() == count  # the first step counts; the page says stop
    assert steps[-2].returncode != 0  # the step that would put the file in place refuses
    assert conf.read_text() == text


def test_a_syntax_error_is_named_by_telegraf_and_the_file_is_not_replaced(
        tmp_path, telegraf_bin, ca_file):
    broken = READER.replace('bucket = "telegraf"', 'bucket = "telegraf')
    conf = _conf(tmp_path, broken)
    steps = run_steps(conf.parent, telegraf_bin, ca_file)
    assert steps[-1].returncode != 0
    assert "invalid TOML syntax" in steps[-1].stderr + steps[-1].stdout, steps[-1]
    assert conf.read_text() == broken  # the reader's file: untouched
    assert (conf.parent / "telegraf.conf.new").exists()  # the candidate, to fix, as the page says


def test_a_read_only_file_keeps_its_mode(tmp_path, telegraf_bin, ca_file):
    # root may write a 0444 file: the shell steps change it and keep 0444
    # (runbook telegraf-config --edit refuses it: tests/unit/test_telegraf_edit.py).
    conf = _conf(tmp_path, READER, mode=0o444)
    steps = run_steps(conf.parent, telegraf_bin, ca_file)
    assert all(p.returncode == 0 for p in steps), steps[-1]
    assert stat.S_IMODE(conf.stat().st_mode) == 0o444
