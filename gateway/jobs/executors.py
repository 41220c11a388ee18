"""Where shipment jobs run: an in-process thread pool (the embedded default) or rq."""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import structlog

from gateway.errors import GatewayError
from gateway.jobs.run import run_shipment

if TYPE_CHECKING:
    from redis import Redis

    from gateway.services import Executor, Services

log = structlog.get_logger(__name__)

# the rq entry point, by name: rq imports it in the work horse
SHIPMENT_JOB = "gateway.workers.jobs.process_shipment"


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
