"""The service against real infrastructure on 127.0.0.1: PostgreSQL, Redis with an rq worker,
an SMTP server (aiosmtpd) and the platform simulator over HTTP, with the real pipeline."""

from __future__ import annotations

import email
import io
import os
import secrets
import socket
from collections.abc import Iterator
from email import policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue, SimpleWorker

from gateway.api.app import build_app
from gateway.config import Settings
from gateway.jobs.executors import queue_name
from gateway.jobs.maintenance import reconcile
from gateway.jobs.outbox import deliver_outbox
from gateway.jobs.run import run_shipment
from gateway.services import ServiceOptions, Services
from gateway.storage.db import upgrade
from gateway.storage.models import OutboxMessage, ReportRow, Shipment
from gateway.storage.repo import Admin
from gateway.wiring import build_services
from gateway.workers.jobs import bind_process_services

pytestmark = pytest.mark.integration

REDIS_DB = 11  # the service tests' own Redis database; keys are prefixed per run as well


class Inbox:
    """aiosmtpd handler that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=policy.SMTP)
        assert isinstance(parsed, email.message.EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    handler = Inbox()
    handler.port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def simulator() -> Iterator[str]:
    from gateway.platform_client.simulator import start_simulator

    url, stop = start_simulator(port=0)
    try:
        yield url
    finally:
        stop()


@pytest.fixture
def scaled(tmp_path: Path, pg_url: str, inbox: Inbox, simulator: str) -> Iterator[Services]:
    """Services as scale-out runs them: PostgreSQL, rq on Redis, SMTP, the platform over HTTP."""
    prefix = f"gwtest-{secrets.token_hex(4)}"
    settings = Settings(
        data_dir=str(tmp_path),
        database_url=pg_url,
        redis_url=f"redis://127.0.0.1:6379/{REDIS_DB}",
        platform_backend="simulator",
        platform_url=simulator,
        smtp_url=f"smtp://127.0.0.1:{inbox.port}",
        secret_key="s",
        key_pepper="p",
    )
    svc = build_services(settings, ServiceOptions(queue_prefix=prefix))
    upgrade(svc.engine)
    bind_process_services(svc)
    yield svc
    connection = Redis.from_url(settings.redis_url)
    for key in connection.scan_iter(match=f"*{prefix}*"):
        connection.delete(key)
    queue = queue_name(prefix).encode()
    for key in connection.scan_iter(match="rq:job:shipment-*"):
        if connection.hget(key, "origin") == queue:  # only this run's jobs
            connection.delete(key)
    svc.close()


def _manifest() -> bytes:
    from samples.manifests import build_xlsx

    data, _expected = build_xlsx()
    return data


def _client(svc: Services) -> tuple[FlaskClient, str]:
    with svc.sessions.begin() as session:
        admin = Admin(session, svc.pepper)
        tenant = admin.create_tenant(f"it-{secrets.token_hex(4)}")
        _row, key = admin.create_key(tenant.id)
    app = build_app(svc.settings, services=svc)
    return app.test_client(), key


def _work(svc: Services) -> None:
    connection = Redis.from_url(svc.settings.redis_url)
    queue = Queue(queue_name(svc.options.queue_prefix), connection=connection)
    SimpleWorker([queue], connection=connection).work(burst=True, max_jobs=50)


def test_a_shipment_runs_on_rq_with_postgresql_smtp_and_the_simulator(
    scaled: Services, inbox: Inbox
) -> None:
    client, key = _client(scaled)
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": secrets.token_hex(8)}
    response = client.post(
        "/v1/shipments",
        data={
            "documents": [(io.BytesIO(_manifest()), "packing list.xlsx")],
            "reference": "IT-1",
            "destination": "DE",
            "notify": "ops@example.com",
        },
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 202
    shipment_id = response.get_json()["id"]
    _work(scaled)
    body = client.get(f"/v1/shipments/{shipment_id}", headers=headers).get_json()
    assert body["status"] == "done"
    assert body["verdict"] in ("clear", "hold", "block")
    assert body["counts"]["codes"] > 0
    assert len(inbox.messages) == 1
    [message] = inbox.messages
    assert message["To"] == "ops@example.com"
    assert {str(p.get_filename()).rsplit(".", 1)[1] for p in message.iter_attachments()} == {
        "html",
        "pdf",
        "xlsx",
    }
    # at-least-once delivery of the job: running it again changes nothing
    assert run_shipment(scaled, shipment_id) == "done"
    deliver_outbox(scaled)
    assert len(inbox.messages) == 1
    with scaled.sessions() as session:
        assert session.query(ReportRow).filter_by(shipment_id=shipment_id).count() == 1
        assert (
            session.query(OutboxMessage).filter_by(shipment_id=shipment_id).one().status == "sent"
        )
    annotated = client.get(f"/v1/shipments/{shipment_id}/report?format=annotated", headers=headers)
    assert annotated.status_code == 200
    assert annotated.data[:2] == b"PK"


def test_the_reconciler_puts_a_stuck_shipment_back_on_the_queue(scaled: Services) -> None:
    import datetime as dt

    client, key = _client(scaled)
    response = client.post(
        "/v1/shipments",
        data={"documents": [(io.BytesIO(_manifest()), "list.xlsx")]},
        headers={"Authorization": f"Bearer {key}"},
        content_type="multipart/form-data",
    )
    shipment_id = response.get_json()["id"]
    connection = Redis.from_url(scaled.settings.redis_url)
    lost = Queue(queue_name(scaled.options.queue_prefix), connection=connection)
    lost.empty()  # type: ignore[no-untyped-call]  # the enqueue was lost with Redis
    with scaled.sessions() as session:
        shipment = session.get(Shipment, shipment_id)
        assert shipment is not None
        shipment.status = "extracting"  # as if its worker died mid-job
        shipment.status_changed_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        session.commit()
    assert shipment_id in reconcile(scaled)
    _work(scaled)
    with scaled.sessions() as session:
        shipment = session.get(Shipment, shipment_id)
        assert shipment is not None
        assert shipment.status == "done"


def test_enqueueing_twice_keeps_one_job_per_shipment(scaled: Services) -> None:
    connection = Redis.from_url(scaled.settings.redis_url)
    queue = Queue(queue_name(scaled.options.queue_prefix), connection=connection)
    shipment_id = secrets.token_hex(16)
    scaled.executor.submit(shipment_id)
    scaled.executor.submit(shipment_id)
    assert queue.count == 1
    assert queue.job_ids == [f"shipment-{shipment_id}"]


def test_rate_limits_are_shared_through_redis(scaled: Services) -> None:
    from gateway.api.ratelimit import RedisRateLimiter

    connection = Redis.from_url(scaled.settings.redis_url)
    first = RedisRateLimiter(connection, scaled.options.queue_prefix, per_minute=60, burst=2)
    second = RedisRateLimiter(connection, scaled.options.queue_prefix, per_minute=60, burst=2)
    assert [first.take("k"), second.take("k")] == [0, 0]
    assert second.take("k") >= 1  # the two web processes share one bucket


def test_readiness_checks_postgresql_redis_and_the_platform(scaled: Services) -> None:
    client, _key = _client(scaled)
    ready = client.get("/readyz")
    assert ready.get_json()["checks"] == {"database": "ok", "queue": "ok", "platform": "ok"}
    assert ready.status_code == 200


def test_a_job_whose_worker_stopped_beating_is_replaced(scaled: Services) -> None:
    import datetime as dt

    from rq.job import Job, JobStatus

    connection = Redis.from_url(scaled.settings.redis_url)
    queue = Queue(queue_name(scaled.options.queue_prefix), connection=connection)
    shipment_id = secrets.token_hex(16)
    scaled.executor.submit(shipment_id)
    job = Job.fetch(f"shipment-{shipment_id}", connection=connection)
    queue.remove(job.id)  # taken by a worker ...
    job.set_status(JobStatus.STARTED)
    job.heartbeat(dt.datetime.now(dt.UTC), ttl=60)
    scaled.executor.submit(shipment_id)
    assert queue.count == 0  # ... which is alive: leave it
    job.heartbeat(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5), ttl=60)
    scaled.executor.submit(shipment_id)  # ... which died: run it again
    assert queue.job_ids == [f"shipment-{shipment_id}"]


def test_a_job_whose_worker_on_this_host_was_killed_is_replaced_at_once(
    scaled: Services,
) -> None:
    import datetime as dt
    import subprocess
    import sys

    from rq.job import Job, JobStatus

    connection = Redis.from_url(scaled.settings.redis_url)
    queue = Queue(queue_name(scaled.options.queue_prefix), connection=connection)
    shipment_id = secrets.token_hex(16)
    scaled.executor.submit(shipment_id)
    job = Job.fetch(f"shipment-{shipment_id}", connection=connection)
    queue.remove(job.id)
    worker_key = f"rq:worker:{scaled.options.queue_prefix}-w1"
    job.worker_name = f"{scaled.options.queue_prefix}-w1"
    job.save()
    job.set_status(JobStatus.STARTED)
    job.heartbeat(dt.datetime.now(dt.UTC), ttl=60)  # a fresh beat: rq would still wait
    try:
        connection.hset(worker_key, mapping={"hostname": socket.gethostname(), "pid": os.getpid()})
        scaled.executor.submit(shipment_id)
        assert queue.count == 0  # its worker process is alive: leave the job alone
        dead = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            check=True,
            capture_output=True,
            text=True,
        )
        connection.hset(worker_key, "pid", int(dead.stdout))  # a process that has exited
        scaled.executor.submit(shipment_id)
        assert queue.job_ids == [f"shipment-{shipment_id}"]
    finally:
        connection.delete(worker_key)


def test_scans_and_code_checks_use_the_platform(scaled: Services) -> None:
    import segno

    from samples.registry import sample_records

    registered = next(
        r for r in sample_records() if r.gtin and r.serial and r.status.value == "registered"
    )
    client, key = _client(scaled)
    headers = {"Authorization": f"Bearer {key}"}
    known = f"(01){registered.gtin}(21){registered.serial}"
    unknown = f"(01){registered.gtin}(21)NOSUCHSERIAL9"
    checked = client.post("/v1/codes/check", json={"codes": [known, unknown]}, headers=headers)
    assert checked.status_code == 200
    verdicts = {c["code"]: c["verdict"] for c in checked.get_json()["codes"]}
    assert verdicts[unknown] == "block"
    assert verdicts[known] in ("clear", "hold")
    photo = io.BytesIO()
    link = f"https://id.gs1.org/01/{registered.gtin}/21/NOSUCHSERIAL9"
    segno.make_qr(link).save(photo, kind="png", scale=8, border=4)
    scanned = client.post("/v1/scans", data=photo.getvalue(), headers=headers).get_json()
    assert [(c["verdict"], c["color"]) for c in scanned["codes"]] == [("block", "red")]


def test_a_label_marking_one_unit_twice_is_not_a_duplicate(scaled: Services) -> None:
    import cv2
    import numpy as np

    from samples.labels import LabelCode, draw_label
    from samples.registry import sample_records

    registered = next(
        r for r in sample_records() if r.gtin and r.serial and r.status.value == "registered"
    )
    hri = f"(01){registered.gtin}(21){registered.serial}"
    linear = LabelCode(f"01{registered.gtin}21{registered.serial}", True, "gs1-128")
    link = f"https://id.example.com/01/{registered.gtin}/21/{registered.serial}"
    matrix = LabelCode(link, False, "qrcode")
    label = draw_label([(linear, hri), (matrix, link)], np.random.default_rng(2), 3)
    ok, png = cv2.imencode(".png", label)
    assert ok
    client, key = _client(scaled)
    scanned = client.post(
        "/v1/scans", data=png.tobytes(), headers={"Authorization": f"Bearer {key}"}
    ).get_json()
    assert len(scanned["codes"]) == 2  # both symbols read
    findings = {f["code"] for c in scanned["codes"] for f in c["findings"]}
    assert "DUPLICATE_UNIT_CODE" not in findings
    assert {c["verdict"] for c in scanned["codes"]} <= {"clear", "hold"}
    # A list of codes posted for checking is not a label: a code listed twice is a copy.
    twice = client.post(
        "/v1/codes/check", json={"codes": [hri, hri]}, headers={"Authorization": f"Bearer {key}"}
    ).get_json()
    assert {f["code"] for c in twice["codes"] for f in c["findings"]} >= {"DUPLICATE_UNIT_CODE"}


def test_a_job_taken_by_a_worker_that_died_before_starting_is_replaced(
    scaled: Services,
) -> None:
    connection = Redis.from_url(scaled.settings.redis_url)
    queue = Queue(queue_name(scaled.options.queue_prefix), connection=connection)
    shipment_id = secrets.token_hex(16)
    job_id = f"shipment-{shipment_id}"
    scaled.executor.submit(shipment_id)
    # what a worker's BLMOVE does: the id leaves the queue for the intermediate list
    connection.lmove(queue.key, queue.intermediate_queue_key, "LEFT", "RIGHT")
    assert queue.count == 0
    scaled.executor.submit(shipment_id)
    assert queue.job_ids == [job_id]
    assert connection.lrange(queue.intermediate_queue_key, 0, -1) == []
