"""Translate upstream's own package definitions into nfpm configurations.

influxdb2: influxdb v2.9.1's module ships `.circleci/packages/config.yaml`
(read by InfluxData's CI packager, which is not published) and the package
tree it names (`source:`, here `.circleci/packages/influxdb2/{control,fs}`).
This reads that file and tree at build time and prints an nfpm config (JSON,
which nfpm reads as YAML): name, description, license, vendor, homepage,
maintainer, version rule, deb depends/conflicts/recommends, perm_overrides,
extras, control scripts. What config.yaml does not say is decided here, once,
and marked "not in config.yaml" below.

influxdb2-cli: influx-cli's module builds its packages with fpm in
`scripts/ci/build-packages`; its fpm flags (name, vendor, description, url,
maintainer, license, iteration) are read from that script, and its version
rule is the script's (a tag like v2.7.5 gives 2.7.5; any other commit gives
2.x-<first 8 hex of the commit>).

Usage:
  nfpm_config.py influxdb2 --module DIR --tag v2.9.1 --influxd BIN
  nfpm_config.py influxdb2-cli --module DIR --version GOVERSION --influx BIN

Standard library plus PyYAML (Debian: python3-yaml).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

# Upstream's control file names -> nfpm's script keys.
SCRIPTS = {
    "pre-install": "preinstall",
    "post-install": "postinstall",
    "pre-uninstall": "preremove",
    "post-uninstall": "postremove",
}
# Git placeholders in the package tree: they keep empty directories in Git
# (".keepdir": "This prevents Git from removing this directory."); the
# directory is packaged, the placeholder is not.
PLACEHOLDERS = {".keepdir", ".gitkeep"}
# Not in config.yaml: its packager's defaults for entries without a
# perm_override. Files root:root 0644, directories 0755 (Debian policy).
DEFAULT_FILE = {"mode": 0o644, "owner": "root", "group": "root"}
DEFAULT_DIR = {"mode": 0o755, "owner": "root", "group": "root"}
BINARY = {"mode": 0o755, "owner": "root", "group": "root"}
# Not in config.yaml: the package revision. Upstream's published files are
# influxdb2_<version>-1_<arch>.deb.
RELEASE = "1"
# Not in config.yaml: where `binaries:` go. The unit and the start script run
# /usr/bin/influxd, and the tree keeps an empty usr/bin for it.
BINARY_DIR = "/usr/bin"
# Debian policy: files under /etc are conffiles (dpkg keeps a reader's edits).
CONFIG_PREFIX = "/etc/"


def render(template: str, env: dict[str, str]) -> str:
    """Upstream's version templates: {{env.NAME}} and {{env.NAME[a:b]}}."""

    def one(m: re.Match) -> str:
        value = env[m.group(1)]
        if m.group(2) is not None:
            start = int(m.group(3)) if m.group(3) else None
            stop = int(m.group(4)) if m.group(4) else None
            value = value[start:stop]
        return value

    return re.sub(r"\{\{\s*env\.(\w+)(\[(-?\d*):(-?\d*)\])?\s*\}\}", one, template)


def upstream_version(rules: list[dict], tag: str, sha: str) -> str:
    env = {"CIRCLE_TAG": tag, "CIRCLE_SHA1": sha}
    for rule in rules:
        if re.match(rule["match"], tag):
            return render(rule["value"], env)
    raise SystemExit(f"no version rule in config.yaml matches {tag!r}")


def info(perm: dict) -> dict:
    return {"mode": perm["mode"], "owner": perm["owner"], "group": perm["group"]}


def influxdb2(module: Path, tag: str, influxd: Path) -> dict:
    config_path = module / ".circleci/packages/config.yaml"
    config = yaml.safe_load(config_path.read_text())
    (pkg,) = [p for p in config["packages"] if p["name"] == "influxdb2"]
    source = module / pkg["source"]
    overrides = {
        "/" + o["target"].lstrip("/"): {"mode": o["perms"], "owner": o["owner"],
                                         "group": o["group"]}
        for o in pkg.get("perm_overrides", [])
    }
    contents: list[dict] = []
    for binary in pkg["binaries"]:
        if binary.endswith(".exe"):
            continue  # the Windows build
        if binary != "influxd":
            raise SystemExit(f"config.yaml names a binary this build has not: {binary}")
        contents.append({"src": str(influxd), "dst": f"{BINARY_DIR}/{binary}",
                         "file_info": BINARY})
    fs = source / "fs"
    for path in sorted(fs.rglob("*")):
        dst = "/" + str(path.relative_to(fs))
        if path.name in PLACEHOLDERS:
            continue
        if path.is_dir():
            # Only directories the tree keeps empty (placeholders only) need an
            # entry of their own; nfpm adds the parents of files itself.
            if all(p.name in PLACEHOLDERS for p in path.rglob("*") if p.is_file()):
                contents.append({"dst": dst, "type": "dir",
                                 "file_info": info(overrides.get(dst, DEFAULT_DIR))})
            continue
        entry = {"src": str(path), "dst": dst,
                 "file_info": info(overrides.get(dst, DEFAULT_FILE))}
        if dst.startswith(CONFIG_PREFIX):
            entry["type"] = "config"
        contents.append(entry)
    for extra in pkg.get("extras", []):
        dst = "/" + extra["target"].lstrip("/")
        contents.append({"src": str(module / extra["source"]), "dst": dst,
                         "file_info": info(overrides.get(dst, DEFAULT_FILE))})
    missing = set(overrides) - {c["dst"] for c in contents}
    if missing:
        raise SystemExit(f"perm_overrides name files the package lacks: {sorted(missing)}")
    scripts = {SCRIPTS[p.name]: str(p) for p in sorted((source / "control").iterdir())
               if p.name in SCRIPTS}
    unknown = {p.name for p in (source / "control").iterdir()} - set(SCRIPTS)
    if unknown:
        raise SystemExit(f"control scripts with no nfpm equivalent: {sorted(unknown)}")
    deb = pkg.get("deb", {})
    maintainer = pkg["maintainer"]
    return {
        "name": pkg["name"],
        "arch": "amd64",
        "platform": "linux",
        "version": upstream_version(config["version"], tag, sha="0" * 40),
        "version_schema": "none",
        "release": RELEASE,
        "maintainer": f"{maintainer['name']} <{maintainer['email']}>",
        "description": pkg["description"],
        "vendor": pkg["vendor"],
        "homepage": pkg["homepage"],
        "license": pkg["license"],
        "depends": deb.get("depends", []),
        "conflicts": deb.get("conflicts", []),
        "recommends": deb.get("recommends", []),
        "contents": contents,
        "scripts": scripts,
    }


def fpm_flags(script: str) -> dict[str, str]:
    """The `--flag value` pairs of the fpm call in influx-cli's build-packages."""
    call = script[script.index("fpm  "):]
    call = call[:call.index("--package")]
    flags = {}
    for m in re.finditer(r"--([a-z-]+)\s+('([^']*)'|\"([^\"]*)\"|[^\s`\\]+)", call):
        value = m.group(3) if m.group(3) is not None else m.group(4)
        flags[m.group(1)] = value if value is not None else m.group(2)
    return flags


def cli_version(go_version: str) -> str:
    """build-packages' rule: a release tag gives its number; any other commit
    (a Go pseudo-version is one) gives 2.x-<first 8 hex of the commit>."""
    pseudo = re.search(r"-(?:\d+\.)?\d{14}-([0-9a-f]{12})$", go_version)
    if pseudo:
        return f"2.x-{pseudo.group(1)[:8]}"
    if re.match(r"^v[0-9]+.[0-9]+.[0-9]+", go_version):
        return go_version[1:]
    raise SystemExit(f"cannot derive a package version from {go_version!r}")


def influxdb2_cli(module: Path, go_version: str, influx: Path) -> dict:
    flags = fpm_flags((module / "scripts/ci/build-packages").read_text())
    return {
        "name": flags["name"],
        "arch": "amd64",
        "platform": "linux",
        "version": cli_version(go_version),
        "version_schema": "none",
        "release": flags["iteration"],
        "maintainer": flags["maintainer"],
        "description": flags["description"],
        "vendor": flags["vendor"],
        "homepage": flags["url"],
        "license": flags["license"],
        # build-packages copies the binary into fs/usr/bin.
        "contents": [{"src": str(influx), "dst": "/usr/bin/influx", "file_info": BINARY}],
    }


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("package", choices=["influxdb2", "influxdb2-cli"])
    ap.add_argument("--module", type=Path, required=True)
    ap.add_argument("--tag")
    ap.add_argument("--influxd", type=Path)
    ap.add_argument("--version")
    ap.add_argument("--influx", type=Path)
    a = ap.parse_args(argv)
    if a.package == "influxdb2":
        config = influxdb2(a.module, a.tag, a.influxd)
    else:
        config = influxdb2_cli(a.module, a.version, a.influx)
    json.dump(config, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
