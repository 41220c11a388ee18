"""P1 under crashes, with real Redis and real rq worker processes (`python -m workers`) on a
SQLite file: `kill -9` of workers mid-job, Redis losing its queue (FLUSHDB of the test's own
database) and Redis unreachable at upload time. Every accepted shipment still reaches exactly
one final status and, when done, exactly one report."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import pytest
from redis import Redis

from gateway.storage.models import Shipment, ShipmentStatus
from samples.hostile import manifest_csv
from tests.factories import app_for, make_services, post_shipment

from .conftest import Rig

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]


def _abandon_started_jobs(rig: Rig) -> None:
    """Let the dead workers' leases run out at once, as they would in a minute or two.

    rq's own maintenance retries or fails the jobs a dead horse left `started` once its
    heartbeat expires (60 s or more), and a dead scheduler's lock expires on its own. Both are
    done here immediately; no worker is alive while this runs.
    """
    from rq import Queue
    from rq.registry import StartedJobRegistry

    from gateway.jobs.executors import queue_name

    connection = Redis.from_url(rig.env["GATEWAY_REDIS_URL"])
    try:
        queue = Queue(queue_name(rig.env["GATEWAY_QUEUE_PREFIX"]), connection=connection)
        StartedJobRegistry(queue=queue).cleanup(timestamp=time.time() + 3600)
        for lock in connection.scan_iter("rq:scheduler-lock:*"):
            connection.delete(lock)
    finally:
        connection.close()


def test_kill_9_of_workers_mid_job_loses_nothing_and_doubles_nothing(rig: Rig) -> None:
    ids = rig.upload(6, rows=400)  # jobs of about a second: a kill lands inside one
    killed_mid_job = 0
    busy = (ShipmentStatus.EXTRACTING, ShipmentStatus.VERIFYING)
    for _ in range(3):
        stale = {k for k, v in rig.statuses(ids).items() if v in busy}  # left by a dead worker
        proc = rig.start_worker()
        running = rig.wait(
            ids,
            lambda s, stale=stale: any(v in busy and k not in stale for k, v in s.items()),  # type: ignore[misc]
            30,
        )
        time.sleep(0.3)  # well inside the job (three documents, each parsed in a sandbox)
        rig.kill(proc)  # kill -9 of the worker, its work horse and its scheduler
        killed_mid_job += running
    assert killed_mid_job >= 2, "the kills did not land while a job was running"
    _abandon_started_jobs(rig)
    final = rig.start_worker()
    assert rig.wait(ids, lambda s: all(v in ShipmentStatus.FINAL for v in s.values()), 60), (
        rig.statuses(ids),
        rig.log.read_text()[-3000:],
    )
    rig.kill(final, signal.SIGTERM)
    rig.assert_one_final_status_and_report(ids)
    assert list(rig.statuses(ids).values()).count(ShipmentStatus.DONE) >= len(ids) - 1


def _attempts(rig: Rig, shipment_id: str) -> int:
    with rig.svc.sessions() as session:
        shipment = session.get(Shipment, shipment_id)
        assert shipment is not None
        return int(shipment.attempts)


def test_a_worker_killed_while_its_job_runs_leaves_a_second_attempt_that_finishes(
    rig: Rig,
) -> None:
    from rq.job import Job, JobStatus

    (shipment_id,) = rig.upload(1, documents=3, rows=1500)  # a job of a few seconds
    proc = rig.start_worker()
    connection = Redis.from_url(rig.env["GATEWAY_REDIS_URL"])
    busy = (ShipmentStatus.EXTRACTING, ShipmentStatus.VERIFYING)

    def running(statuses: dict[str, str]) -> bool:
        if statuses[shipment_id] not in busy:
            return False
        job = Job.fetch(f"shipment-{shipment_id}", connection=connection)
        return job.get_status(refresh=True) == JobStatus.STARTED and bool(job.worker_name)

    assert rig.wait([shipment_id], running, 30), rig.log.read_text()[-3000:]
    # provably inside the job: rq has it started by this worker, the first attempt is
    # counted in the database, and the shipment is still being read
    assert _attempts(rig, shipment_id) == 1
    rig.kill(proc)  # the worker, its work horse and its scheduler, with SIGKILL
    assert rig.statuses([shipment_id])[shipment_id] in busy  # cut short, not finished
    assert _attempts(rig, shipment_id) == 1
    final = rig.start_worker()  # its reconciler sees the dead worker and re-enqueues
    assert rig.wait([shipment_id], lambda s: s[shipment_id] in ShipmentStatus.FINAL, 90), (
        rig.statuses([shipment_id]),
        rig.log.read_text()[-3000:],
    )
    rig.kill(final, signal.SIGTERM)
    rig.assert_one_final_status_and_report([shipment_id])
    assert rig.statuses([shipment_id])[shipment_id] == ShipmentStatus.DONE
    assert _attempts(rig, shipment_id) == 2
    connection.close()


def test_a_job_started_on_a_host_that_died_is_replaced_after_its_records_expired(
    rig: Rig,
) -> None:
    # what a worker on another host sees of a dead host's job: `started`, its heartbeat
    # old, its worker's keys and its execution record expired; rq's own Job.delete fails
    # on such a job, which used to stop every reconciler round
    import datetime as dt

    from rq import Queue, Worker
    from rq.job import Job

    from gateway.jobs.executors import queue_name

    (shipment_id,) = rig.upload(1, documents=1)
    connection = Redis.from_url(rig.env["GATEWAY_REDIS_URL"])
    queue = Queue(queue_name(rig.env["GATEWAY_QUEUE_PREFIX"]), connection=connection)
    job = Job.fetch(f"shipment-{shipment_id}", connection=connection)
    connection.lrem(queue.key, 0, job.id)  # taken by the worker of the host that died
    dead = Worker([queue], connection=connection, name=f"dead-{shipment_id[:8]}")
    execution = dead.prepare_execution(job)
    dead.prepare_job_execution(job)
    job.heartbeat(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10), 60)
    connection.delete(execution.key, dead.key)
    with pytest.raises(ValueError, match="not found"):
        Job.fetch(job.id, connection=connection).delete()  # rq itself cannot remove it
    rig.svc.executor.submit(shipment_id)
    assert queue.get_job_position(job.id) is not None, "the job was not replaced"
    proc = rig.start_worker()
    assert rig.wait([shipment_id], lambda s: s[shipment_id] == ShipmentStatus.DONE, 60), (
        rig.statuses([shipment_id]),
        rig.log.read_text()[-3000:],
    )
    rig.kill(proc, signal.SIGTERM)
    rig.assert_one_final_status_and_report([shipment_id])
    connection.close()


def test_redis_losing_its_queue_loses_no_accepted_shipment(rig: Rig) -> None:
    ids = rig.upload(4, documents=1)  # enqueued, no worker yet
    Redis.from_url(rig.env["GATEWAY_REDIS_URL"]).flushdb()  # the queue is gone
    proc = rig.start_worker()  # its reconciler finds the shipments and enqueues them again
    assert rig.wait(ids, lambda s: set(s.values()) == {ShipmentStatus.DONE}, 60), (
        rig.statuses(ids),
        rig.log.read_text()[-3000:],
    )
    rig.kill(proc, signal.SIGTERM)
    rig.assert_one_final_status_and_report(ids)


def test_uploads_while_redis_is_unreachable_are_accepted_and_finished(
    rig: Rig, tmp_path: Path
) -> None:
    # a gateway whose Redis is a dead port: uploads are still durable and answered 202
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]  # closed again: nothing listens there
    dead = make_services(
        tmp_path,
        options=rig.svc.options,
        redis_url=f"redis://127.0.0.1:{dead_port}/0",
    )
    dead._executor = None
    try:
        client = app_for(dead).test_client()
        ids = []
        for i in range(3):
            response = post_shipment(client, rig.key, [(f"d{i}.csv", manifest_csv())])
            assert response.status_code == 202, response.data[:300]
            ids.append(response.get_json()["id"])
    finally:
        dead.close()
    proc = rig.start_worker()  # Redis is back (the real one): the reconciler picks them up
    assert rig.wait(ids, lambda s: set(s.values()) == {ShipmentStatus.DONE}, 60), (
        rig.statuses(ids),
        rig.log.read_text()[-3000:],
    )
    rig.kill(proc, signal.SIGTERM)
    rig.assert_one_final_status_and_report(ids)
