"""P1 across a Redis restart: a private redis-server (no persistence) is killed mid-load and
started again empty on the same port. Every accepted shipment still reaches exactly one final
status and one report: the database is the record of truth and the reconciler re-enqueues
what the lost queue held."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.storage.models import ShipmentStatus

from .conftest import RedisServer, Rig

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """Overrides the shared Redis database: this module restarts its own server."""
    server = RedisServer(tmp_path)
    server.start()
    _SERVERS[server.url] = server
    try:
        yield server.url
    finally:
        server.kill()
        _SERVERS.pop(server.url, None)


_SERVERS: dict[str, RedisServer] = {}


def test_a_redis_restart_mid_load_loses_no_accepted_shipment(rig: Rig) -> None:
    server = _SERVERS[rig.env["GATEWAY_REDIS_URL"]]
    first = rig.upload(3, documents=1)
    worker = rig.start_worker()
    busy = (ShipmentStatus.EXTRACTING, ShipmentStatus.VERIFYING, ShipmentStatus.DONE)
    assert rig.wait(first, lambda s: any(v in busy for v in s.values()), 60), rig.statuses(first)
    server.kill()  # queue, intermediate list, registries and worker keys are all gone
    rig.kill(worker)
    server.start()  # empty: nothing of the queue survives
    second = rig.upload(2, documents=1)  # accepted while the queue is new
    ids = first + second
    rig.start_worker()  # its reconciler finds every non-final shipment and enqueues it
    assert rig.wait(ids, lambda s: all(v in ShipmentStatus.FINAL for v in s.values()), 120), (
        rig.statuses(ids),
        rig.log.read_text()[-3000:],
    )
    rig.assert_one_final_status_and_report(ids)
    assert set(rig.statuses(ids).values()) == {ShipmentStatus.DONE}
