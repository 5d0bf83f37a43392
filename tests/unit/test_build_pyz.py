"""The one-file CLI (scripts/build_pyz.py) ships its modules compiled, and
still runs, from source, where the compiled files do not fit."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from scripts.build_pyz import build

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pyz(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("pyz") / "runbook.pyz")


def run_verbose(pyz: Path) -> tuple[str, str]:
    """`--version` with zipimport saying which files it tries (-vv)."""
    out = subprocess.run([sys.executable, "-vv", str(pyz), "--version"], capture_output=True,
                         text=True, timeout=60, cwd="/")
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip(), out.stderr


def rewritten(pyz: Path, dest: Path, change) -> Path:
    """A copy of the zip application with each member passed through change(name, data)."""
    head, _, _ = pyz.read_bytes().partition(b"PK")
    tmp = dest.with_suffix(".zip")
    with zipfile.ZipFile(pyz) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        for name in src.namelist():
            out.writestr(name, change(name, src.read(name)))
    dest.write_bytes(head + tmp.read_bytes())
    return dest


def test_every_module_ships_compiled_beside_its_source(pyz):
    names = set(zipfile.ZipFile(pyz).namelist())
    sources = {n for n in names if n.startswith("runbook/") and n.endswith(".py")}
    assert "runbook/cli/__init__.py" in sources
    assert {n for n in names if n.endswith(".pyc")} == {s + "c" for s in sources}


def test_the_cli_runs_from_its_compiled_modules(pyz):
    version, tried = run_verbose(pyz)
    assert version == "runbook, version 0.1.0"
    assert f"{pyz}/runbook/cli/__init__.pyc\n" in tried
    assert f"trying {pyz}/runbook/cli/__init__.py\n" not in tried, "the CLI was compiled again"


def test_a_python_of_another_version_compiles_the_sources(pyz, tmp_path):
    # Another Python's magic number: zipimport must skip the compiled file.
    foreign = rewritten(pyz, tmp_path / "foreign.pyz",
                        lambda n, d: b"\x00\x00" + d[2:] if n.endswith(".pyc") else d)
    version, tried = run_verbose(foreign)
    assert version == "runbook, version 0.1.0"
    assert f"trying {foreign}/runbook/cli/__init__.py\n" in tried


def test_an_edited_source_wins_over_its_compiled_file(pyz, tmp_path):
    def edit(name: str, data: bytes) -> bytes:
        if name == "runbook/__init__.py":
            return data.replace(b'__version__ = "0.1.0"', b'__version__ = "9.9.9"')
        return data

    version, _ = run_verbose(rewritten(pyz, tmp_path / "edited.pyz", edit))
    assert version == "runbook, version 9.9.9"


READER_IMPORTS = {"cryptography", "click", "tomlkit", "runbook"}


def test_the_reader_cli_imports_no_lab_and_no_docker(pyz):
    """What a reader downloads: the runbook package alone, importing only the
    standard library and the three packages its install step names."""
    import ast

    imported = set()
    with zipfile.ZipFile(pyz) as z:
        for name in z.namelist():
            if name.endswith(".py"):
                for node in ast.walk(ast.parse(z.read(name))):
                    if isinstance(node, ast.Import):
                        imported |= {a.name.split(".")[0] for a in node.names}
                    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                        imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"__future__"}
    assert third_party == READER_IMPORTS, third_party
    assert not [n for n in z.namelist() if n.startswith("lab/")]


def test_the_pyz_knows_the_pinned_influxd_outside_a_checkout(pyz, tmp_path):
    """versions.env travels inside the zip: no path back into the repository."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from runbook.facts import "
            "influxd_version; print(influxd_version())")
    out = subprocess.run([sys.executable, "-I", "-c", code, str(pyz)], capture_output=True,
                         text=True, timeout=60, cwd=tmp_path)
    pinned = next(line.split("=", 1)[1] for line in (ROOT / "versions.env").read_text()
                  .splitlines() if line.startswith("INFLUXD_VERSION="))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == pinned.lstrip("v")
