"""The Ansible rollout (ansible/, docs/fleet.md) against a real fleet: three
package hosts on their own Docker network, each with Telegraf writing to its
influxd, first over HTTP, then HTTPS.

One fleet for the whole module, in the order an operator meets it: bad input
before the CA exists and after; a first rollout with a broken host; the
page's own commands (rollout, re-run, rotation); then Telegraf's count. The
page's shell blocks run here, on the controller, exactly as written: the only
difference is the inventory (ANSIBLE_INVENTORY: hosts reached through
nsenter, or community.docker.docker, instead of SSH; tests/fleet.py).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509

from lab.image import BUILD_CACHE
from runbook.tls.probe import probe
from tests.fleet import ANSIBLE, PLUGIN_ENV, Fleet, PlaybookRun, require_ansible, wait_for

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "fleet.md"
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def fleet():
    require_ansible()  # before three hosts are started for nothing
    f = Fleet(3)
    try:
        started = time.monotonic()
        f.start()
        TIMINGS["fleet start"] = time.monotonic() - started
        f.write_inventory()
        yield f
    finally:
        f.close()
        print("\nfleet timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in TIMINGS.items()))


def page_blocks() -> list[str]:
    """The page's `shell` blocks, in order: what a reader types."""
    blocks, block = [], None
    for line in PAGE.read_text().splitlines():
        if block is None and line.strip() == "```shell":
            block = []
        elif block is not None and line.strip() == "```":
            blocks.append("\n".join(block))
            block = None
        elif block is not None:
            block.append(line)
    return blocks


def page_block(fleet: Fleet, needle: str, nth: int = 0, home: Path | None = None) -> PlaybookRun:
    """Run the page block that is `needle` (or else contains it; the nth such
    block), from ansible/, as a reader would, against the test fleet's inventory,
    with `home` (default: the fleet's work folder) as HOME."""
    blocks = page_blocks()
    found = [b for b in blocks if b.strip() == needle] or [b for b in blocks if needle in b]
    code = found[nth]
    env = {**os.environ,
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "ANSIBLE_INVENTORY": str(fleet.inventory_dir), "ANSIBLE_NOCOLOR": "1",
           "HOME": str(home or fleet.work), **PLUGIN_ENV}
    started = time.monotonic()
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=ANSIBLE, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=300)
    run = PlaybookRun(proc.returncode, proc.stdout, time.monotonic() - started)
    run.recap = Fleet.parse_recap(proc.stdout)
    assert run.rc == 0, (f"page block failed ({run.rc}):\n{code}\n"
                         f"--- output ---\n{run.output[-4000:]}")
    return run


def states(fleet: Fleet) -> dict[str, str]:
    return {name: fleet.state(name) for name in fleet.names}


def assert_failed_early(run: PlaybookRun, reason: str, before: dict[str, str], fleet: Fleet):
    print(run.output[-1500:])
    assert run.rc != 0
    assert reason in run.output
    # Preflight only: no task of the rollout ran, and no host changed.
    assert "TASK [influxdb_tls : This host's paths]" not in run.output
    assert all(r["changed"] == 0 for r in run.recap.values()), run.recap
    assert states(fleet) == before


def test_missing_ca_file_fails_early_and_changes_nothing(fleet):
    before = states(fleet)
    run = fleet.playbook("tls.yml")
    assert_failed_early(run, f"missing CA file {fleet.ca_cert()} on the controller", before,
                        fleet)
    assert "ansible-playbook ca.yml" in run.output  # the fix


def test_page_installs_ansible_and_makes_the_ca(fleet):
    # The page's install block makes ~/ansible-venv. Installing Ansible into a
    # new one takes about 100 s, so HOME for that block is a folder in the
    # build cache, kept between runs (the block finds Ansible installed) and
    # named by the block's text (a changed block installs afresh), locked
    # against a second run beside this one.
    block = next(b for b in page_blocks() if "pip install" in b)
    home = BUILD_CACHE / f"fleet-controller-home-{hashlib.sha256(block.encode()).hexdigest()[:12]}"
    home.mkdir(parents=True, exist_ok=True)
    with (BUILD_CACHE / "fleet-controller-home.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        page_block(fleet, "pip install", home=home)
    installed = subprocess.run(
        [str(home / "ansible-venv/bin/python"), "-c",
         "import importlib.metadata as m; print(m.version('ansible'))"],
        capture_output=True, text=True, timeout=60)
    pinned = re.search(r"ansible==([0-9.]+)", block)
    assert pinned and installed.stdout.strip() == pinned[1], installed.stderr
    run = page_block(fleet, "ansible-playbook ca.yml")
    ca = x509.load_pem_x509_certificate(fleet.ca_cert().read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert oct((fleet.pki_dir / "ca.key").stat().st_mode & 0o777) == "0o600"
    assert "changed=" in run.output


def test_unreachable_host_fails_early_and_changes_nothing(fleet):
    before = states(fleet)
    # A fourth server reached over SSH, as a reader's are: an address on the
    # fleet's network where nothing listens on port 22.
    ghost = {"ansible_host": fleet.ip(fleet.names[0]),
             "ansible_ssh_common_args": "-o ConnectTimeout=10 -o StrictHostKeyChecking=no"}
    fleet.write_inventory(extra_hosts={"influx9.fleet.test": ghost})
    try:
        run = fleet.playbook("tls.yml")
    finally:
        fleet.write_inventory()
    assert_failed_early(run, "UNREACHABLE", before, fleet)
    assert run.recap["influx9.fleet.test"]["unreachable"] == 1
    assert "Failed to connect to the host via ssh" in run.output
    assert "fatal: [influx9.fleet.test]: UNREACHABLE!" in run.output


def test_wrong_inventory_variables_fail_early_and_change_nothing(fleet):
    """One mistake per host; preflight names all three in one run. Host
    variables, because they win over group_vars/influxdb.yml, as a reader's would."""
    one, two, three = fleet.names
    before = states(fleet)
    fleet.write_inventory(host_vars={
        one: {"influxdb_tls_name": "influx.example.com"},  # typo for influxdb_tls_names
        two: {"influxdb_tls_min_version": 1.1},
        three: {"influxdb_tls_names": three},  # a string, not a list
    })
    try:
        run = fleet.playbook("tls.yml")
    finally:
        fleet.write_inventory()
    assert_failed_early(run, f"{one}: unknown variable influxdb_tls_name (a typo?", before, fleet)
    assert f'{two}: influxdb_tls_min_version must be "1.2" or "1.3" (got 1.1)' in run.output
    assert f'{three}: influxdb_tls_names must be a list of DNS names (got "{three}")' \
        in " ".join(run.output.split())
    assert all(r["failed"] == 1 for r in run.recap.values()), run.recap


def test_a_telegraf_config_the_edit_would_refuse_fails_early_and_changes_nothing(fleet):
    """Preflight reads Telegraf's file as `runbook install` will edit it
    (telegraf-config --check): two [[outputs.influxdb_v2]] stop the rollout
    before any host changes, named by the edit's own finding."""
    three = fleet.names[2]
    two = "/etc/telegraf/two-outputs.conf"
    fleet.sh(three, f"printf '%s\\n' '[[outputs.influxdb_v2]]' 'urls = [\"http://a:8086\"]' "
                    f"'[[outputs.influxdb_v2]]' 'urls = [\"http://b:8086\"]' > {two}")
    before = states(fleet)
    fleet.write_inventory(host_vars={three: {"influxdb_tls_telegraf_config": two}})
    try:
        run = fleet.playbook("tls.yml")
    finally:
        fleet.write_inventory()
        fleet.sh(three, f"rm -f {two}")
    assert_failed_early(run, f"{three}: Telegraf configuration: ERROR: "
                        f"[telegraf-several-influxdb-v2] {two} has 2 [[outputs.influxdb_v2]] "
                        "sections", before, fleet)
    assert "Nothing was changed on any host." in run.output


def test_broken_host_is_rolled_back_and_the_hosts_after_it_untouched(fleet):
    """influx2's key goes to a user influxd does not run as: influxd cannot
    read it and exits at start. influx1 is done, influx2 is put back on HTTP,
    influx3 is never touched."""
    one, two, three = fleet.names
    before = states(fleet)
    fleet.write_inventory(host_vars={two: {"influxdb_tls_user": "root"}})
    try:
        run = fleet.playbook("tls.yml")
    finally:
        fleet.write_inventory()
    TIMINGS["rollout with a broken host"] = run.seconds
    summary = next(ln for ln in run.output.splitlines() if "ROLLOUT STOPPED" in ln)
    print(run.output[-2500:])
    assert run.rc != 0
    assert run.changed()[one] > 0 and run.recap[two]["failed"] == 1
    assert run.recap[three]["changed"] == 0
    text = " ".join(run.output.split())
    assert f"ROLLOUT STOPPED at {two} (host 2 of 3)" in text
    assert "server.key: permission denied" in text
    assert f"ROLLED BACK: {two} has its previous files again and influxd answers its " \
           "previous HTTP /ping" in text
    assert f"DONE: {one}. NOT TOUCHED: {three}." in text
    assert summary
    page_text = PAGE.read_text().split("```text\n", 1)[1].split("```", 1)[0]
    shown = ".*?".join(re.escape(part) for part in " ".join(page_text.split()).split("..."))
    assert re.search(shown, text), "the page shows the real message (... for what varies)"
    # influx1 serves HTTPS; influx2 and influx3 are byte for byte as before, on HTTP.
    assert "tls-cert" in fleet.config(one)
    assert fleet.state(two) == before[two]
    assert fleet.state(three) == before[three]
    for name in (two, three):
        assert fleet.sh(name, "curl -s -o /dev/null -w '%{http_code}' "
                              "http://localhost:8086/ping") == "204"
        assert fleet.sh(name, "systemctl is-active telegraf").strip() == "active"
    wait_for(lambda: fleet.stored(two) >= fleet.produced(two)[1] - 2,
             f"{two}'s Telegraf writing over HTTP again", 30)


def test_page_rollout_serves_each_hosts_new_certificate_and_refuses_tls_1_1(fleet):
    run = page_block(fleet, "ansible-playbook tls.yml")
    TIMINGS["rollout (page)"] = run.seconds
    print(f"\nrollout recap: {run.recap}")
    one, two, three = fleet.names
    assert run.changed()[one] == 0  # done by the broken run, nothing to do
    assert run.changed()[two] > 0 and run.changed()[three] > 0
    for name in fleet.names:
        assert fleet.served_certificate(name) == fleet.issued_certificate(name)
        result = probe(f"https://{fleet.ip(name)}:8086", ca_file=str(fleet.ca_cert()),
                       server_name=name)
        assert result.verified, result.verify_error
        assert result.versions["TLSv1.2"] == "accepted"
        assert result.versions["TLSv1.1"].startswith("refused"), result.versions
        assert result.versions["TLSv1.0"].startswith("refused"), result.versions
        assert result.plain_http_refused


def test_page_second_run_changes_nothing(fleet):
    run = page_block(fleet, "ansible-playbook tls.yml", nth=1)
    TIMINGS["idempotent re-run (page)"] = run.seconds
    print(f"\nre-run recap: {run.recap}")
    assert run.changed() == dict.fromkeys(fleet.names, 0)


def test_page_rotation_gives_every_host_a_new_certificate(fleet):
    old = {name: fleet.served_certificate(name) for name in fleet.names}
    run = page_block(fleet, "influxdb_tls_rotate=true")
    TIMINGS["rotation (page)"] = run.seconds
    print(f"\nrotation recap: {run.recap}")
    for name in fleet.names:
        new = fleet.served_certificate(name)
        assert new != old[name] and new == fleet.issued_certificate(name)
        assert x509.load_der_x509_certificate(new).serial_number != \
            x509.load_der_x509_certificate(old[name]).serial_number


def test_a_failed_rotation_puts_back_the_previous_certificate(fleet):
    """The same broken key owner during a rotation, on the first host: it goes
    back to the certificate it served (HTTPS), the other two are not touched."""
    one, two, three = fleet.names
    served = {name: fleet.served_certificate(name) for name in fleet.names}
    fleet.write_inventory(host_vars={one: {"influxdb_tls_user": "root"}})
    try:
        run = fleet.playbook("tls.yml", "-e", "influxdb_tls_rotate=true")
    finally:
        fleet.write_inventory()
    text = " ".join(run.output.split())
    print(f"\nfailed rotation recap: {run.recap}")
    assert run.rc != 0
    assert f"ROLLOUT STOPPED at {one} (host 1 of 3)" in text
    assert f"ROLLED BACK: {one} has its previous files again and influxd serves its " \
           "previous certificate again" in text
    assert f"DONE: none. NOT TOUCHED: {two}, {three}." in text
    assert {name: fleet.served_certificate(name) for name in fleet.names} == served
    assert fleet.sh(one, "systemctl is-active telegraf").strip() == "active"


def test_every_point_every_telegraf_produced_is_stored(fleet):
    counts = {}
    for name in fleet.names:
        # SIGTERM: Telegraf flushes what it holds, then exits.
        fleet.sh(name, "systemctl stop telegraf")
        (lines, produced), stored = fleet.produced(name), fleet.stored(name)
        counts[name] = (lines, produced, stored)
    print(f"\nTelegraf's lines / distinct points / points stored, per host: {counts}")
    for name, (lines, produced, stored) in counts.items():
        assert produced == stored, (f"{name}: produced {produced} points ({lines} lines), "
                                    f"stored {stored}")
        assert produced > 20  # points from before, during and after the rollout
