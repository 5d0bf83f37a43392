#!/usr/bin/env python3
"""The runbook CLI as one file: a Python zip application (PEP 441).

It holds the runbook package only; the system's python3 runs it with the
distribution's cryptography, click and tomlkit (Debian/Ubuntu:
python3-cryptography, python3-click, python3-tomlkit). The site publishes it
as downloads/runbook.pyz (site_hooks/download.py) and the pages
install it from there; the docs harness installs the same file from
build/downloads/runbook.pyz in its hosts.

Beside each module's source it holds the module compiled by the Python that
builds it (`poll.pyc` next to `poll.py`, where zipimport looks). Python cannot
write compiled files into a zip, so without them every `runbook` call would
compile the modules it imports again: 50 ms of the 210 ms a `runbook check`
took in a page host. A Python of another version finds a foreign magic
number and compiles the source instead, as before; the compiled file is
checked against its source's hash, so an edited source wins too.

    scripts/build_pyz.py [OUT]     default: build/downloads/runbook.pyz
"""

from __future__ import annotations

import os
import py_compile
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Where the site publishes it (downloads/), so that the docs harness maps only
# the host part of the download address to file:///opt/runbook/build/.
DEFAULT_OUT = ROOT / "build" / "downloads" / "runbook.pyz"


def build(out: Path = DEFAULT_OUT) -> Path:
    """Write the zip application atomically (two test workers may build at once):
    zipapp's format, a shebang line followed by a zip with __main__.py."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".runbook.pyz.", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for path in sorted((ROOT / "runbook").rglob("*.py")):
                name = path.relative_to(ROOT).as_posix()
                z.writestr(_entry(name), path.read_bytes())
                z.writestr(_entry(name + "c"), compiled(path, f"{out.name}/{name}"))
            # The facts runbook/facts.py reads (a link in the checkout: its content here).
            z.writestr(_entry("runbook/versions.env"), (ROOT / "versions.env").read_bytes())
            z.writestr(_entry("__main__.py"), "from runbook.__main__ import main\nmain()\n")
        with tmp.open("rb") as src, tempfile.NamedTemporaryFile(dir=out.parent,
                                                                delete=False) as dst:
            dst.write(b"#!/usr/bin/env python3\n" + src.read())
        final = Path(dst.name)
        final.chmod(0o755)
        final.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _entry(name: str) -> zipfile.ZipInfo:
    """A zip entry with a fixed date and mode: the same sources give the same
    bytes, so the SHA-256 the site shows and the one the harness checks agree
    however often and wherever (from this checkout) the file is built."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def compiled(source: Path, shown_as: str) -> bytes:
    """The module as a hash-checked .pyc for this Python; `shown_as` is the
    file name tracebacks give."""
    with tempfile.TemporaryDirectory() as d:
        pyc = py_compile.compile(str(source), cfile=f"{d}/m.pyc", dfile=shown_as, doraise=True,
                                 invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
        return Path(pyc).read_bytes()


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT))
