"""`telegraf-config --lint` agrees with Telegraf 1.39.3 itself (issue 28, defect 8).

Each case is one file, linted by the runbook and run by Telegraf (`--once`,
outputs pointed at a closed port, so nothing is written anywhere but its own
log), and both verdicts are reduced to one word: "https" (Telegraf writes over
TLS / the lint finds no error), "http" (plain HTTP), "bad-url" (Telegraf
cannot parse a URL and does not start the output) or "refused" (Telegraf does
not load the file). Telegraf is the binary scripts/build-binaries.sh builds;
without it the test is skipped, saying so.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from runbook.checks.findings import ERROR
from runbook.checks.telegraf import lint_config
from runbook.errors import InputError
from runbook.tls import certs

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "influx-tls-runbook"


def _telegraf() -> str | None:
    found = sorted(glob.glob(str(CACHE / "bin" / "telegraf-v1.39.3")))
    return found[-1] if found else shutil.which("telegraf")


TELEGRAF = _telegraf()
CLOSED = "127.0.0.1:9"  # the discard port; nothing listens on it here
CASES = {  # name: the [[outputs.influxdb_v2]] part ({ca}: a real CA file)
    "good": f'[[outputs.influxdb_v2]]\nurls = ["https://{CLOSED}"]\ntls_ca = "{{ca}}"\n',
    "http": f'[[outputs.influxdb_v2]]\nurls = ["http://{CLOSED}"]\ntls_ca = "{{ca}}"\n',
    "no-urls": '[[outputs.influxdb_v2]]\ntls_ca = "{ca}"\n',
    "urls-empty": '[[outputs.influxdb_v2]]\nurls = []\ntls_ca = "{ca}"\n',
    "http-upper": f'[[outputs.influxdb_v2]]\nurls = ["HTTP://{CLOSED}"]\ntls_ca = "{{ca}}"\n',
    "https-upper": f'[[outputs.influxdb_v2]]\nurls = ["HTTPS://{CLOSED}"]\ntls_ca = "{{ca}}"\n',
    "url-space": f'[[outputs.influxdb_v2]]\nurls = [" http://{CLOSED}"]\ntls_ca = "{{ca}}"\n',
    "bom": f'\ufeff[[outputs.influxdb_v2]]\nurls = ["https://{CLOSED}"]\ntls_ca = "{{ca}}"\n',
    "single-table": f'[outputs.influxdb_v2]\nurls = ["https://{CLOSED}"]\ntls_ca = "{{ca}}"\n',
    "urls-string": f'[[outputs.influxdb_v2]]\nurls = "https://{CLOSED}"\n',
    "skip-string": f'[[outputs.influxdb_v2]]\nurls = ["https://{CLOSED}"]\n'
                   'insecure_skip_verify = "yes"\n',
    "not-toml": "[[outputs.influxdb_v2\nurls = \n",
}
VERDICT_BY_FINDING = {"telegraf-http-url": "http", "telegraf-no-urls": "http",
                      "telegraf-bad-url": "bad-url", "telegraf-bad-shape": "refused"}


def _file(tmp: Path, name: str, ca: Path) -> Path:
    body = CASES[name].format(ca=ca)
    bom = body.startswith("\ufeff")
    text = ("\ufeff" if bom else "") + "[[inputs.mem]]\n" + body.removeprefix("\ufeff")
    path = tmp / f"{name}.conf"
    path.write_text(text, encoding="utf-8")
    return path


def lint_verdict(path: Path) -> str:
    try:
        findings = lint_config(path.read_bytes().decode(errors="replace"), name=str(path))
    except InputError:
        return "refused"
    errors = [VERDICT_BY_FINDING.get(f.id, f.id) for f in findings if f.severity == ERROR]
    return errors[0] if errors else "https"


def telegraf_verdict(path: Path) -> str:
    assert TELEGRAF is not None
    try:
        proc = subprocess.run([TELEGRAF, "--config", str(path), "--once"], capture_output=True,
                              text=True, timeout=40, env={**os.environ, "HOME": str(path.parent)})
        log = proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        log = str(exc.stdout or "") + str(exc.stderr or "")
    wrote = re.search(r"When writing to \[(\w+)://", log)
    if wrote:
        return wrote.group(1).lower()
    if "error parsing url" in log:
        return "bad-url"
    if "loading config file" in log and "failed" in log:
        return "refused"
    return f"unrecognised Telegraf log: {log[-400:]}"


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.crt"
    path.write_bytes(certs.CA.create().cert_pem())
    return path


@pytest.mark.skipif(TELEGRAF is None, reason="no Telegraf 1.39.3 binary: "
                    "scripts/build-binaries.sh telegraf builds it into "
                    f"{CACHE}/bin (or put telegraf on PATH)")
@pytest.mark.parametrize("name", list(CASES))
def test_the_lint_and_telegraf_agree(tmp_path, ca_file, name):
    path = _file(tmp_path, name, ca_file)
    assert lint_verdict(path) == telegraf_verdict(path)
