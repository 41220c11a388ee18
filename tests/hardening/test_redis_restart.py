"""P1 across a Redis restart: a private redis-server (no persistence) is killed mid-load and
started again empty on the same port. Every accepted shipment still reaches exactly one final
status and one report: the database is the record of truth and the reconciler re-enqueues
what the lost queue held."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from gateway.storage.models import ShipmentStatus

from .conftest import Rig

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A redis-server of the test's own on 127.0.0.1, without persistence."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed; the Redis restart test needs it")
        self.binary = binary
        self.port = _free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if Redis.from_url(self.url, socket_timeout=1).ping():
                    return
            except Exception:  # not up yet
                time.sleep(0.1)
        pytest.fail(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)


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
