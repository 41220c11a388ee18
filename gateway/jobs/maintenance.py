"""The reconciler, the start-up resubmission and the daemon loops that run them."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import TYPE_CHECKING, Self

import structlog

from gateway.jobs.outbox import deliver_outbox
from gateway.storage.models import Shipment, ShipmentStatus
from gateway.storage.repo import Admin

if TYPE_CHECKING:
    from gateway.services import Services

log = structlog.get_logger(__name__)


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
        from gateway.jobs.purge import purge_documents

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
