"""tests/fleet.py's Fleet.close(): a host already gone (a sweep, a hand-run
`docker rm`) must not leave the fleet's network and other hosts behind.
Seen: one run left the network rb-fleet-* after its hosts were removed
under it."""

from __future__ import annotations

import docker.errors
import pytest

from lab.server import OWNER_LABEL, docker_client
from tests.fleet import Fleet

pytestmark = pytest.mark.server


def test_close_removes_the_network_and_the_other_hosts_when_one_is_already_gone(runbook_image):
    client = docker_client()
    fleet = Fleet(n=2)
    fleet.network = client.networks.create(fleet.prefix, labels={OWNER_LABEL: "pytest"})
    for name in fleet.names:
        fleet.containers[name] = client.containers.run(
            runbook_image, ["sleep", "infinity"], entrypoint=[], detach=True,
            name=fleet.container_name(name), network=fleet.network.name,
            labels={OWNER_LABEL: "pytest"})
    gone, kept = (fleet.containers[n] for n in fleet.names)
    network_id = fleet.network.id
    gone.remove(force=True, v=True)
    fleet.close()
    for removed in (kept.id, network_id):
        with pytest.raises(docker.errors.NotFound):
            (client.containers if removed == kept.id else client.networks).get(removed)
    assert not fleet.work.exists()
