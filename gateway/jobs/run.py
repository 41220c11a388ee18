"""One shipment to a final status: load it, run the pipeline, store report and outbox rows."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import update

from gateway.domain import Document, Report
from gateway.errors import InputError
from gateway.jobs.outbox import deliver_outbox
from gateway.metrics import METRICS
from gateway.storage.codec import report_to_data
from gateway.storage.models import Shipment, ShipmentStatus
from gateway.storage.repo import Admin, TenantRepo

if TYPE_CHECKING:
    from gateway.services import Services

log = structlog.get_logger(__name__)


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


def _finish(services: Services, tenant_id: str, shipment_id: str, report: Report) -> str:
    """Store the report, the final status and the outbox rows in ONE transaction."""
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
