"""P1 when the web tier (re)starts during a Redis outage with a backlog.

A real `gateway serve` (gunicorn, two web processes) starts while its redis-server, one of
the test's own on a port of its own, is down, and a shipment is still `received`. It must
come up, accept uploads durably (202, the row and the documents stored), say not-ready on
/readyz, and enqueue the whole backlog itself once Redis is started again: the workers'
reconciler is set to wait an hour here, so only the web tier can have enqueued it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from redis import Redis
from sqlalchemy import func, select

from gateway.jobs.executors import queue_name
from gateway.services import ServiceOptions, Services
from gateway.storage.models import ReportRow, Shipment, ShipmentStatus
from gateway.storage.repo import Admin, TenantRepo
from samples.hostile import manifest_csv
from tests.factories import app_for, make_services, new_tenant, post_shipment

from .conftest import RedisServer, free_port, gateway_env

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]


def _wait(probe: Callable[[], object], timeout: float, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if probe():
                return True
        time.sleep(every)
    return False


@pytest.fixture
def outage(tmp_path: Path) -> Iterator[tuple[RedisServer, dict[str, str]]]:
    """A redis-server that is down (never started yet) and the gateway's environment."""
    server = RedisServer(tmp_path)
    # nobody but the web tier re-enqueues within the test
    env = gateway_env(tmp_path, redis_url=server.url, queue_prefix="outage", reconcile_after="3600")
    try:
        yield server, env
    finally:
        server.kill()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # gunicorn's master stops its web processes
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_serve_starts_during_a_redis_outage_and_enqueues_the_backlog_when_it_is_back(
    tmp_path: Path, outage: tuple[RedisServer, dict[str, str]]
) -> None:
    server, env = outage
    options = ServiceOptions(queue_prefix="outage", reconcile_after=3600)
    svc = make_services(tmp_path, options=options, redis_url=server.url)
    _tenant, key = new_tenant(svc)
    # the backlog: a shipment accepted but never enqueued (its enqueue was lost)
    first = post_shipment(app_for(svc).test_client(), key, [("m.csv", manifest_csv())])
    assert first.status_code == 202
    backlog = first.get_json()["id"]

    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--bind", f"127.0.0.1:{port}",
         "--workers", "2"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {key}"}
    try:
        assert _wait(lambda: requests.get(f"{base}/healthz", timeout=2).ok, 60), (
            serve.poll(),
            (tmp_path / "serve.log").read_text()[-3000:],
        )
        time.sleep(1.0)
        assert serve.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]

        ready = requests.get(f"{base}/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["checks"]["queue"] == "unavailable"
        assert ready.json()["checks"]["database"] == "ok"

        # uploads during the outage are accepted and durable
        files = {"documents": ("during.csv", manifest_csv(), "text/csv")}
        during = requests.post(f"{base}/v1/shipments", headers=auth, files=files, timeout=20)
        assert during.status_code == 202, during.text[:300]
        accepted = during.json()["id"]
        ids = [backlog, accepted]
        with svc.sessions() as session:
            rows = {r[0]: r[1] for r in session.execute(select(Shipment.id, Shipment.status))}
        assert rows == {backlog: ShipmentStatus.RECEIVED, accepted: ShipmentStatus.RECEIVED}
        assert svc.blobs.get(_blob_key(svc, accepted)) == manifest_csv()

        server.start()  # Redis is back, empty
        redis = Redis.from_url(server.url)
        jobs = {f"rq:job:shipment-{i}".encode() for i in ids}
        assert _wait(lambda: jobs <= set(redis.keys("rq:job:*")), 30), redis.keys("*")
        queued = {j.decode() for j in redis.lrange(f"rq:queue:{queue_name('outage')}", 0, -1)}
        assert queued == {f"shipment-{i}" for i in ids}
        assert _wait(lambda: requests.get(f"{base}/readyz", timeout=5).ok, 30)
        assert serve.poll() is None

        # a worker drains what the web tier enqueued: one report each
        worker = subprocess.run(
            [sys.executable, "-m", "workers", "--burst"],
            env=env, cwd=ROOT, capture_output=True, timeout=120, check=False,
        )  # fmt: skip
        assert worker.returncode == 0, worker.stderr[-2000:]
        with svc.sessions() as session:
            statuses = select(Shipment.id, Shipment.status).where(Shipment.id.in_(ids))
            final = {row[0]: row[1] for row in session.execute(statuses)}
            counted = select(ReportRow.shipment_id, func.count()).group_by(ReportRow.shipment_id)
            reports = {row[0]: row[1] for row in session.execute(counted)}
        assert final == {i: ShipmentStatus.DONE for i in ids}
        assert reports == {i: 1 for i in ids}
    finally:
        _stop(serve)
        log.close()
        svc.close()


def _blob_key(svc: Services, shipment_id: str) -> str:
    with svc.sessions() as session:
        tenant = Admin(session, svc.pepper).shipment_tenant(shipment_id)
        assert tenant is not None
        documents = TenantRepo(session, tenant).documents(shipment_id)
        assert len(documents) == 1
        assert documents[0].blob_key
        return str(documents[0].blob_key)
