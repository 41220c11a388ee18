"""What the queue runs: one shipment through the pipeline, and the outbox and reconciler loops.

The database is the record of truth. A job takes a bare shipment id, re-loads everything,
and is safe to run twice: a final status is never left, the report is upserted by shipment id
and outbox rows are unique per report and recipient. With `GATEWAY_REDIS_URL` jobs go to rq
workers (`gateway worker`); without it an in-process thread pool runs the same code.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import threading
import time
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol, Self

import structlog
from sqlalchemy import update

from gateway.api.metrics import METRICS
from gateway.config import Settings
from gateway.domain import Document
from gateway.errors import GatewayError, InputError
from gateway.storage.codec import report_to_data
from gateway.storage.models import OutboxMessage, Shipment, ShipmentStatus
from gateway.storage.repo import Admin, TenantRepo, aware

if TYPE_CHECKING:
    from redis import Redis

    from gateway.services import Services

log = structlog.get_logger(__name__)

SHIPMENT_JOB = "gateway.jobs.process_shipment"


class Executor(Protocol):
    """Runs shipment jobs somewhere."""

    def submit(self, shipment_id: str) -> None:
        """Make sure a job for this shipment is queued or running."""
        ...

    def healthy(self) -> bool:
        """Whether jobs can be accepted now (for /readyz)."""
        ...

    def shutdown(self) -> None:
        """Stop accepting jobs and release resources."""
        ...


class DeclaredHistoryStore:
    """The pipeline's DeclaredHistory over the database, for one tenant."""

    def __init__(self, services: Services, tenant_id: str, shipment_id: str | None) -> None:
        self.services = services
        self.tenant_id = tenant_id
        self.shipment_id = shipment_id

    def exported(self, keys: Collection[str]) -> Mapping[str, str]:
        """Key -> an earlier declared shipment of this tenant that carried the key."""
        with self.services.sessions() as session:
            repo = TenantRepo(session, self.tenant_id)
            return repo.exported(keys, exclude=self.shipment_id)


def run_shipment(services: Services, shipment_id: str) -> str:
    """Run one shipment to a final status; returns the status it ends in.

    InputError from the pipeline rejects the shipment (the documents cannot be used; a retry
    would not help). Any other exception propagates so that the queue retries; after
    `max_attempts` starts the shipment is rejected rather than retried for ever.
    """
    started = time.monotonic()
    with services.sessions() as session:
        tenant_id = Admin(session, services.pepper).shipment_tenant(shipment_id)
        if tenant_id is None:
            log.warning("shipment_job_unknown", shipment_id=shipment_id)
            return "missing"
        repo = TenantRepo(session, tenant_id)
        shipment = repo.get(shipment_id)
        if shipment.status in ShipmentStatus.FINAL:
            return shipment.status
        if shipment.attempts >= services.options.max_attempts:
            repo.set_status(
                shipment_id,
                ShipmentStatus.REJECTED,
                reason=(
                    f"Processing failed {shipment.attempts} times; the documents were kept. "
                    "Upload the shipment again or contact support."
                ),
                reason_code="processing_failed",
            )
            session.commit()
            METRICS.inc("gateway_jobs_total", outcome="rejected")
            return ShipmentStatus.REJECTED
        shipment.attempts += 1
        repo.set_status(shipment_id, ShipmentStatus.EXTRACTING, progress=5)
        session.commit()
        tenant = repo.tenant()
        rows = repo.documents(shipment_id)
        request_docs: list[tuple[Document, bytes]] = []
        for row in rows:
            if row.blob_key is None:
                return _reject(
                    services,
                    tenant_id,
                    shipment_id,
                    "document_purged",
                    f"Document {row.filename!r} was removed by the retention policy.",
                )
            document = Document(
                id=row.doc_id,
                filename=row.filename,
                media_type=row.media_type,
                sha256=row.sha256,
                size=row.size,
            )
            request_docs.append((document, services.blobs.get(row.blob_key)))
        from gateway.services import CheckRequest

        request = CheckRequest(
            shipment_id=shipment_id,
            documents=tuple(request_docs),
            reference=shipment.reference,
            destination=shipment.destination,
            transport_mode=shipment.transport_mode,
            declared_on=services.clock().date(),
            tenant_ruleset=tenant.ruleset_override,
        )
    progress = _ProgressWriter(services, tenant_id, shipment_id)
    try:
        report = services.checker(
            request,
            history=DeclaredHistoryStore(services, tenant_id, shipment_id),
            progress=progress,
        )
    except InputError as exc:
        details = getattr(exc, "details", None)
        return _reject(
            services,
            tenant_id,
            shipment_id,
            exc.code,
            str(exc),
            details=details if isinstance(details, dict) else None,
        )
    status = _finish(services, tenant_id, shipment_id, report)
    elapsed = time.monotonic() - started
    METRICS.observe("gateway_job_seconds", elapsed)
    METRICS.inc("gateway_jobs_total", outcome=status)
    METRICS.inc("gateway_codes_checked_total", float(report.counts.get("codes", 0)), via="job")
    count_lookups(report.counts)
    log.info("shipment_checked", shipment_id=shipment_id, verdict=str(report.verdict))
    with contextlib.suppress(Exception):  # delivery failures stay in the outbox for later
        deliver_outbox(services, shipment_id=shipment_id)
    return status


def count_lookups(counts: Mapping[str, int]) -> None:
    """Platform look-ups by outcome, from a report's counts; unverified ones are failures."""
    for outcome in ("verified", "not_found", "unverified"):
        METRICS.inc("gateway_platform_calls_total", float(counts.get(outcome, 0)), outcome=outcome)
    METRICS.inc("gateway_platform_failures_total", float(counts.get("unverified", 0)))


class _ProgressWriter:
    """Writes the pipeline's progress to the shipment row, at most twice a second."""

    def __init__(self, services: Services, tenant_id: str, shipment_id: str) -> None:
        self.services = services
        self.tenant_id = tenant_id
        self.shipment_id = shipment_id
        self.stage = ShipmentStatus.EXTRACTING
        self.last = 0.0

    def __call__(self, stage: str | None, fraction: float | None) -> None:
        new_stage = self.stage
        if stage in ShipmentStatus.OPEN:
            new_stage = stage
        elif stage:  # the pipeline's own words: "reading <file>", "read", "looking up", ...
            lowered = stage.lower()
            reading = "read" in lowered or "extract" in lowered
            new_stage = ShipmentStatus.EXTRACTING if reading else ShipmentStatus.VERIFYING
        now = time.monotonic()
        if new_stage == self.stage and now - self.last < 0.5:
            return
        self.last = now
        # 5..95: 0 means "not started" and 100 is written only with the report
        percent = None if fraction is None else 5 + int(90 * max(0.0, min(1.0, fraction)))
        with self.services.sessions() as session:
            repo = TenantRepo(session, self.tenant_id)
            if new_stage != self.stage:
                repo.set_status(self.shipment_id, new_stage, progress=percent)
                self.stage = new_stage
            elif percent is not None:
                repo.set_progress(self.shipment_id, percent)
            session.commit()


def _reject(
    services: Services,
    tenant_id: str,
    shipment_id: str,
    code: str,
    reason: str,
    *,
    details: dict[str, object] | None = None,
) -> str:
    with services.sessions() as session:
        TenantRepo(session, tenant_id).set_status(
            shipment_id,
            ShipmentStatus.REJECTED,
            reason=reason,
            reason_code=code,
            progress=100,
            details=details,
        )
        session.commit()
    METRICS.inc("gateway_jobs_total", outcome="rejected")
    log.info("shipment_rejected", shipment_id=shipment_id, reason_code=code)
    return ShipmentStatus.REJECTED


def _finish(services: Services, tenant_id: str, shipment_id: str, report: object) -> str:
    """Store the report, the final status and the outbox rows in ONE transaction."""
    from gateway.domain import Report

    assert isinstance(report, Report)
    with services.sessions.begin() as session:
        # The conditional update comes first: it takes the row's write lock, so of two runs
        # finishing at once exactly one moves the shipment to `done`.
        moved = session.execute(
            update(Shipment)
            .where(Shipment.id == shipment_id, Shipment.tenant_id == tenant_id)
            .where(Shipment.status.in_(ShipmentStatus.OPEN))
            .values(
                status=ShipmentStatus.DONE,
                verdict=str(report.verdict),
                counts={str(k): int(v) for k, v in report.counts.items()},
                progress=100,
                status_changed_at=services.clock(),
            )
        )
        if not moved.rowcount:  # type: ignore[attr-defined]
            session.rollback()
            return "skipped"
        repo = TenantRepo(session, tenant_id)
        row = repo.save_report(shipment_id, str(report.verdict), report_to_data(report))
        shipment = repo.get(shipment_id)
        for recipient in shipment.notify:
            repo.add_outbox(shipment_id, row.id, "email", recipient)
        tenant = repo.tenant()
        if tenant.webhook_url:
            repo.add_outbox(shipment_id, row.id, "webhook", tenant.webhook_url)
    return ShipmentStatus.DONE


# -- outbox -------------------------------------------------------------------------------------

SENDING_LEASE = dt.timedelta(minutes=10)


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(3600, 15 * 2 ** max(0, attempts - 1)))


def deliver_outbox(
    services: Services, *, shipment_id: str | None = None, limit: int = 100
) -> dict[str, int]:
    """Try every due outbox message (of one shipment, or all); returns counts by outcome.

    A message is claimed (`pending` -> `sending`) by a conditional update before it is sent,
    so two delivery loops never send the same message; a claim older than the lease (a crash
    mid-send) goes back to `pending`.
    """
    from gateway.mail import deliver

    now = services.clock()
    outcome: dict[str, int] = {}
    with services.sessions.begin() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "sending")
            .where(OutboxMessage.next_attempt_at < now - SENDING_LEASE)
            .values(status="pending")
        )
    with services.sessions() as session:
        if shipment_id is None:
            ids = Admin(session, services.pepper).due_outbox(now, limit)
        else:
            ids = [
                m.id
                for m in session.query(OutboxMessage).filter(
                    OutboxMessage.shipment_id == shipment_id, OutboxMessage.status == "pending"
                )
            ]
    for message_id in ids:
        with services.sessions.begin() as session:
            claimed = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.status == "pending")
                .where(OutboxMessage.next_attempt_at <= now)
                .values(status="sending", next_attempt_at=services.clock())
            )
            if not claimed.rowcount:  # type: ignore[attr-defined]
                continue
        with services.sessions() as session:
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            try:
                sent_id = deliver(services, session, message)
            except Exception as exc:  # any failure: retry later with backoff, never lose it
                message.attempts += 1
                message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                give_up = services.clock() - aware(message.created_at) > dt.timedelta(
                    hours=services.options.mail_retry_hours
                )
                message.status = "undeliverable" if give_up else "pending"
                message.next_attempt_at = services.clock() + _backoff(message.attempts)
                result = message.status
            else:
                message.status = "sent"
                message.sent_at = services.clock()
                message.message_id = sent_id
                message.attempts += 1
                result = "sent"
            session.commit()
        METRICS.inc("gateway_outbox_total", kind=message.kind, outcome=result)
        outcome[result] = outcome.get(result, 0) + 1
    return outcome


# -- reconciler ----------------------------------------------------------------------------------


def reconcile(services: Services) -> list[str]:
    """Re-submit shipments stuck in a non-final status (a worker died); returns their ids."""
    cutoff = services.clock() - dt.timedelta(seconds=services.options.reconcile_after)
    with services.sessions() as session:
        stuck = Admin(session, services.pepper).stuck_shipments(cutoff)
    for shipment_id in stuck:
        log.warning("shipment_resubmitted", shipment_id=shipment_id)
        services.executor.submit(shipment_id)
    return stuck


def resubmit_received(services: Services) -> list[str]:
    """At start-up: submit every shipment still `received` (its enqueue may have been lost).

    Raises whatever the executor raises (Redis unreachable); `start_resubmission` is the
    caller that must not fail.
    """
    with services.sessions() as session:
        ids = list(
            session.scalars(
                Shipment.__table__.select()
                .with_only_columns(Shipment.id)
                .where(Shipment.status == ShipmentStatus.RECEIVED)
            )
        )
    for shipment_id in ids:
        services.executor.submit(shipment_id)
    return ids


def start_resubmission(services: Services) -> bool:
    """Resubmit the `received` backlog and reconcile, at the start of `gateway serve`.

    Never raises: with Redis down the web tier must still come up, accept uploads (they are
    durable before the enqueue) and say not-ready on /readyz. Returns False when the queue
    could not be reached; `QueueRecovery` then resubmits once it answers again.
    """
    try:
        resubmit_received(services)
        reconcile(services)
    except Exception as exc:  # Redis down or refusing: the backlog waits in the database
        log.warning("queue_unreachable_at_start", error=type(exc).__name__)
        return False
    return True


class _Loop:
    """A daemon thread running `_run` until `stop`."""

    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Self:
        """Start the loop; returns self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the loop to stop and wait for it."""
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        raise NotImplementedError


class QueueRecovery(_Loop):
    """A daemon thread of a web process: resubmits the backlog once the queue is back.

    It acts when the start-up resubmission failed or when an enqueue of this process failed
    (`RqExecutor.lost_submits`), and only after the queue answers a ping again. Every
    resubmission is safe to repeat: one rq job id per shipment.
    """

    def __init__(self, services: Services, *, pending: bool, every: float = 2.0) -> None:
        super().__init__("gateway-requeue")
        self.services = services
        self.pending = pending
        self.every = every

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            executor = self.services.executor
            taken = getattr(executor, "take_lost_submits", None)
            if callable(taken) and taken():
                self.pending = True
            if not self.pending or not executor.healthy():
                continue
            try:
                ids = resubmit_received(self.services)
            except Exception as exc:  # down again: keep the flag, try at the next round
                log.warning("queue_resubmit_failed", error=type(exc).__name__)
                continue
            self.pending = False
            log.info("queue_back_backlog_resubmitted", shipments=len(ids))


class Maintenance(_Loop):
    """A daemon thread: the reconciler, the outbox sender and, hourly, the retention purge."""

    def __init__(self, services: Services, every: float | None = None) -> None:
        super().__init__("gateway-maintenance")
        self.services = services
        self.every = every if every is not None else float(services.options.reconcile_every)

    def _run(self) -> None:
        from gateway.storage.purge import purge_documents

        outbox_every = min(self.every, 15.0)
        last_reconcile = 0.0
        last_purge = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() - last_reconcile >= self.every:
                    reconcile(self.services)
                    last_reconcile = time.monotonic()
                if time.monotonic() - last_purge >= 3600:
                    purge_documents(self.services)
                    last_purge = time.monotonic()
                deliver_outbox(self.services)
            except Exception:  # keep the loop alive; the next round tries again
                log.exception("maintenance_failed")
            self._stop.wait(outbox_every)


# -- executors -----------------------------------------------------------------------------------


class InlineExecutor:
    """The embedded default: a small thread pool in the web process, same job code."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.pool = ThreadPoolExecutor(
            max_workers=max(1, services.options.worker_threads), thread_name_prefix="gateway-job"
        )
        self._pending: set[str] = set()
        self._lock = threading.Lock()

    def submit(self, shipment_id: str) -> None:
        """Queue the shipment unless it is already queued or running here."""
        with self._lock:
            if shipment_id in self._pending:
                return
            self._pending.add(shipment_id)
        self.pool.submit(self._run, shipment_id)

    def _run(self, shipment_id: str) -> None:
        retry = False
        try:
            run_shipment(self.services, shipment_id)
        except GatewayError as exc:
            log.warning("shipment_job_failed", shipment_id=shipment_id, error=exc.code)
            retry = True
        except Exception:
            log.exception("shipment_job_crashed", shipment_id=shipment_id)
            retry = True
        finally:
            with self._lock:
                self._pending.discard(shipment_id)
        if retry:
            # run_shipment counts attempts in the database and rejects after the last one
            timer = threading.Timer(5.0, self.submit, args=(shipment_id,))
            timer.daemon = True
            timer.start()

    def healthy(self) -> bool:
        """The pool is up unless shut down."""
        return not self.pool._shutdown

    def shutdown(self) -> None:
        """Finish running jobs; queued ones stay `received` in the database for next start."""
        self.pool.shutdown(wait=True, cancel_futures=True)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until no job is queued or running (tests and the CLI use it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._pending:
                    return True
            time.sleep(0.02)
        return False


def queue_name(prefix: str) -> str:
    """The rq queue for shipment jobs."""
    return f"{prefix}-shipments"


class RqExecutor:
    """Jobs on rq: only the shipment id travels; job id `shipment-<id>` keeps one per shipment."""

    def __init__(self, services: Services, connection: Redis | None = None) -> None:
        from redis import Redis
        from rq import Queue

        self.services = services
        # bounded: an upload must not hang on a Redis host that does not answer
        self.connection = connection or Redis.from_url(
            services.settings.redis_url, socket_connect_timeout=2, socket_timeout=10
        )
        self.queue = Queue(queue_name(services.options.queue_prefix), connection=self.connection)
        self._lost = threading.Event()

    def take_lost_submits(self) -> bool:
        """Whether a submit failed since the last call (the queue was unreachable)."""
        lost = self._lost.is_set()
        self._lost.clear()
        return lost

    def submit(self, shipment_id: str) -> None:
        """Enqueue unless a live job for the shipment exists; replace a finished/failed one.

        A Redis failure propagates (the caller logs it; the shipment stays `received` in the
        database) and is remembered for `QueueRecovery`.
        """
        try:
            self._submit(shipment_id)
        except Exception:
            self._lost.set()
            raise

    def _submit(self, shipment_id: str) -> None:
        from rq import Retry
        from rq.exceptions import DuplicateJobError, NoSuchJobError
        from rq.job import Job, JobStatus

        job_id = f"shipment-{shipment_id}"
        for _ in range(2):
            try:
                self.queue.enqueue(
                    SHIPMENT_JOB,
                    shipment_id,
                    job_id=job_id,
                    unique=True,
                    job_timeout=self.services.options.job_timeout,
                    retry=Retry(max=3, interval=[10, 60, 300]),
                    result_ttl=3600,
                    failure_ttl=7 * 24 * 3600,
                    description=f"shipment {shipment_id}",
                )
                return
            except DuplicateJobError:
                try:
                    job = Job.fetch(job_id, connection=self.connection)
                except NoSuchJobError:
                    continue  # expired between the two calls: enqueue again
                status = job.get_status(refresh=True)
                if status in (JobStatus.SCHEDULED, JobStatus.DEFERRED):
                    return
                if status == JobStatus.QUEUED and self.queue.get_job_position(job_id) is not None:
                    return
                if (
                    status == JobStatus.STARTED
                    and not _heartbeat_lost(job)
                    and not _worker_gone(job, self.connection)
                ):
                    return
                # Finished or failed; started by a worker that is gone or stopped beating; or
                # "queued" but no longer in the queue (taken by a worker that died before
                # starting it).
                self.connection.lrem(self.queue.intermediate_queue_key, 0, job_id)
                _delete_job(job, self.connection, self.queue)

    def healthy(self) -> bool:
        """Redis answers a ping."""
        try:
            return bool(self.connection.ping())
        except Exception:
            return False

    def shutdown(self) -> None:
        """Close the Redis connection pool."""
        self.connection.close()


def _delete_job(job: Any, connection: Redis, queue: Any) -> None:
    """Delete a job rq itself may no longer be able to delete.

    A job started on a host that died keeps its started-registry entry after its execution
    record expired; rq's `Job.delete` then fails ("Execution ... not found"), and the job
    would block its shipment until rq's own clean-up. Its keys are removed directly then.
    """
    try:
        job.delete()
    except Exception:
        registry = queue.started_job_registry
        for member in connection.zrange(registry.key, 0, -1):
            text = member.decode() if isinstance(member, bytes) else str(member)
            if text == job.id or text.startswith(f"{job.id}:"):
                connection.zrem(registry.key, text)
        connection.delete(job.key)


# rq's worker beats every 30 s while a job runs; three missed beats mean the worker is gone.
HEARTBEAT_LOST = dt.timedelta(seconds=90)


def _heartbeat_lost(job: object) -> bool:
    beat = getattr(job, "last_heartbeat", None)
    if not isinstance(beat, dt.datetime):
        return False
    beat = beat if beat.tzinfo is not None else beat.replace(tzinfo=dt.UTC)
    return dt.datetime.now(dt.UTC) - beat > HEARTBEAT_LOST


def _worker_gone(job: object, connection: Redis) -> bool:
    """True when the worker that started `job` is known to be dead.

    rq notices a worker killed with SIGKILL only when its keys expire (minutes). The
    reconciler can know sooner: the worker's registration is gone, or it ran on this host
    and its process no longer exists. A worker on another host that is still registered
    counts as alive (its heartbeat decides, see `_heartbeat_lost`).
    """
    name = getattr(job, "worker_name", None)
    if not name:
        return False
    hostname, pid = connection.hmget(f"rq:worker:{name}", ["hostname", "pid"])
    if hostname is None and pid is None:
        return True  # deregistered or expired
    if isinstance(hostname, bytes):
        hostname = hostname.decode()
    if hostname is None or pid is None or hostname != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    return False


def build_executor(services: Services) -> Executor:
    """rq when Redis is configured, else the in-process pool."""
    if services.settings.redis_url:
        return RqExecutor(services)
    return InlineExecutor(services)


def warm_up(services: Services) -> None:
    """Load, once, what every job needs: pipeline, rules, parsers' client side, codec, ruleset.

    rq runs each job in a work horse forked from the worker: whatever the worker has loaded
    before the fork, every horse has for free. Without this each job paid ~0.4 s of imports
    and ruleset parsing. Failures are only logged: a cold horse still works.
    """
    try:
        # loaded for the horses
        import gateway.parsers.serialize
        import gateway.pipeline  # noqa: F401
        from gateway.codec import prepare
        from gateway.domain import CodeOccurrence, ExtractionMethod, Report, SourceRef

        prepare(Report)
        code = CodeOccurrence(
            raw="(01)09506000134352(21)WARMUP",
            source=SourceRef(document_id="warm-up", row=1),
            method=ExtractionMethod.INPUT,
        )
        services.code_checker([code], shipment_id="warm-up", history=None)
    except Exception:  # an optimisation, never a reason not to work
        log.warning("worker_warm_up_failed", exc_info=True)


# -- rq entry point ------------------------------------------------------------------------------

_PROCESS_SERVICES: tuple[int, Services] | None = None


def _process_services() -> Services:
    global _PROCESS_SERVICES
    if _PROCESS_SERVICES is None or _PROCESS_SERVICES[0] != os.getpid():
        from gateway.services import build_services

        _PROCESS_SERVICES = (os.getpid(), build_services(Settings.from_env()))
    return _PROCESS_SERVICES[1]


def process_shipment(shipment_id: str) -> str:
    """rq entry point: ids in, status out. Safe to run twice (rq is at-least-once)."""
    return run_shipment(_process_services(), shipment_id)


def bind_process_services(services: Services) -> None:
    """Use `services` for rq jobs run in this process (an in-process SimpleWorker, tests)."""
    global _PROCESS_SERVICES
    _PROCESS_SERVICES = (os.getpid(), services)
