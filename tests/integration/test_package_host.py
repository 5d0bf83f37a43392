"""The package host: upstream's influxdb2 package, built from its own
definition, installed by apt-get and run by systemd as PID 1."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import docker.errors
import pytest
import yaml

from harness.container_exec import run_in, shell
from harness.hosts.package import host as host_package
from lab.server import OWNER_LABEL, docker_client

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]


def versions() -> dict[str, str]:
    pairs = (ln.split("=", 1) for ln in (ROOT / "versions.env").read_text().splitlines()
             if "=" in ln and not ln.lstrip().startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


def sh(container, cmd: str) -> str:
    code, text = shell(container, cmd)
    assert code == 0, f"{cmd!r} exited {code}: {text}"
    return text


@pytest.fixture(scope="module")
def host():
    image = host_package.build_image()
    kwargs = host_package.run_kwargs()
    # The project, so `runbook` runs in the host as on the docs pages.
    kwargs["volumes"] = {**kwargs.get("volumes", {}),
                         str(ROOT): {"bind": "/opt/runbook", "mode": "ro"}}
    container = docker_client().containers.run(image, detach=True,
                                               labels={OWNER_LABEL: "pytest"},
                                               environment={"PYTHONPATH": "/opt/runbook"},
                                               **kwargs)
    try:
        host_package.wait_ready(container, deadline_s=60)
        yield container
    finally:
        container.remove(force=True, v=True)


@pytest.fixture(scope="module")
def debs() -> dict[str, Path]:
    out = subprocess.run(["bash", str(ROOT / "harness/hosts/package/build-deb.sh")], check=True,
                         stdout=subprocess.PIPE, text=True).stdout.split()
    return {Path(p).name.split("_")[0]: Path(p) for p in out}


def test_systemd_runs_the_packaged_unit_as_user_influxdb(host):
    status = sh(host, "systemctl status influxdb --no-pager")
    assert "Loaded: loaded (/lib/systemd/system/influxdb.service; enabled;" in status
    assert "Active: active (running)" in status
    assert sh(host, "ps -o user= -C influxd").split() == ["influxdb"]
    assert sh(host, "systemctl is-system-running").strip() == "running"


def test_deb_fields_are_upstreams(debs, host):
    module = subprocess.run(
        ["go", "mod", "download", "-json",
         f"github.com/influxdata/influxdb/v2@{versions()['INFLUXD_VERSION']}"],
        check=True, stdout=subprocess.PIPE, text=True).stdout
    config = yaml.safe_load((Path(json.loads(module)["Dir"])
                             / ".circleci/packages/config.yaml").read_text())
    (pkg,) = [p for p in config["packages"] if p["name"] == "influxdb2"]
    fields = subprocess.run(["dpkg-deb", "-f", str(debs["influxdb2"]), "Package", "Version",
                             "Depends", "Conflicts"], check=True, stdout=subprocess.PIPE,
                            text=True).stdout
    tag = versions()["INFLUXD_VERSION"]
    assert dict(ln.split(": ", 1) for ln in fields.splitlines()) == {
        "Package": pkg["name"],  # influxdb2
        "Version": f"{tag[1:]}-1",  # 2.9.1-1: config.yaml's rule for a tag, revision 1
        "Depends": ", ".join(pkg["deb"]["depends"]),  # curl
        "Conflicts": ", ".join(pkg["deb"]["conflicts"]),  # influxdb
    }
    assert debs["influxdb2"].name == "influxdb2_2.9.1-1_amd64.deb"
    installed = sh(host, "dpkg-query -W -f '${Package} ${Version}\\n' influxdb2 influxdb2-cli")
    assert installed.splitlines()[0] == "influxdb2 2.9.1-1"


def test_postinstall_config_and_modes(host):
    config = sh(host, "cat /etc/influxdb/config.toml")
    assert 'bolt-path = "/var/lib/influxdb/influxd.bolt"' in config
    assert 'engine-path = "/var/lib/influxdb/engine"' in config
    assert sh(host, "cat /etc/default/influxdb2").strip() == \
        "INFLUXD_CONFIG_PATH=/etc/influxdb/config.toml"
    # perm_overrides and the postinst's chown, as installed.
    assert sh(host, "stat -c '%a %U:%G' /usr/lib/influxdb/scripts/influxd-systemd-start.sh "
                    "/lib/systemd/system/influxdb.service /var/lib/influxdb").split("\n")[:3] == [
        "755 root:root", "644 root:root", "750 influxdb:influxdb"]


def test_influx_cli_prints_its_stamped_version(host):
    version = versions()["INFLUX_CLI_VERSION"]  # v2.7.1-0.20250130214939-76d1c4d9b777
    commit = version.rsplit("-", 1)[1]
    assert sh(host, "influx version").strip() == (
        f"Influx CLI {version[1:]} (git: {commit}) build_date: 2025-01-30T21:49:39Z")


def test_a_host_that_cannot_boot_systemd_fails_in_one_line():
    kwargs = host_package.run_kwargs()
    del kwargs["volumes"]  # no cgroup hierarchy: systemd cannot boot
    container = docker_client().containers.run(host_package.build_image(), detach=True,
                                               labels={OWNER_LABEL: "pytest"}, **kwargs)
    started = time.monotonic()
    try:
        with pytest.raises(host_package.HostNotReady) as err:
            host_package.wait_ready(container, deadline_s=20)
    finally:
        container.remove(force=True, v=True)
    message = str(err.value)
    print(message)
    assert time.monotonic() - started < 20
    assert "\n" not in message
    assert "systemd exited" in message and "cgroup" in message and "Fix:" in message
    with pytest.raises(docker.errors.NotFound):
        docker_client().containers.get(container.id)


def test_runbook_check_defaults_to_the_packages_influxdb_system_user(host):
    """On a package host `influxdb` is a system user (not uid 1000): `check`
    uses it without --user, says so, and finds the key readable."""
    uid = int(sh(host, "id -u influxdb"))
    assert uid < 1000
    sh(host, "mkdir -p /srv/check && cd /srv/check && runbook certs self-signed --out . >/dev/null"
             " && chown influxdb:influxdb server.key")
    ran = run_in(host, ["runbook", "check", "--cert", "/srv/check/server.crt",
                        "--key", "/srv/check/server.key"])
    assert f"uid {uid}, user influxdb on this host" in ran.stderr
    assert ran.exit_code == 0, ran.output
