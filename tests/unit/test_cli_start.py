"""What every CLI start pays for: the pages run `runbook wait` after each
influxd start, and the check and doctor steps often; none of them should
load cryptography's X.509 machinery before a command needs it."""

from __future__ import annotations

import subprocess
import sys

import pytest


def imported_at_start(*args: str) -> set[str]:
    """The modules `python -m runbook ARGS` imports (python -X importtime)."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "runbook", *args],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    return {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines()
            if line.startswith("import time:")}


@pytest.mark.parametrize("args", [("wait", "--help"), ("--version",), ("doctor", "--help")])
def test_commands_that_make_no_certificate_start_without_cryptography(args):
    modules = imported_at_start(*args)
    assert "runbook.cli" in modules, "the CLI itself was not imported: the check saw nothing"
    assert not {m for m in modules if m.startswith("cryptography")}


def test_certs_commands_still_get_their_choices():
    out = subprocess.run([sys.executable, "-m", "runbook", "certs", "self-signed", "--help"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "rsa2048|rsa3072" in out.stdout and "[default: 365;" in out.stdout
