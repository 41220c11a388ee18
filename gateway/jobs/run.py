"""One shipment to a final status: load it, run the pipeline, store report and outbox rows."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import update

from gateway.domain import Document, Report
from gateway.errors import InputError
from gateway.jobs.outbox import deliver_outbox
from gateway.metrics import METRICS
from gateway.reports import changes
from gateway.storage.codec import report_from_data, report_to_data
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
        version = shipment.rounds
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
    images = {d.filename: d.media_type.startswith("image/") for d, _ in request_docs}
    progress = _ProgressWriter(services, tenant_id, shipment_id, images)
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
    progress.report()
    status = _finish(services, tenant_id, shipment_id, report, version)
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
    """Writes the pipeline's progress to the shipment row: the status, a percentage and the
    stage with its counts (`{"stage": "reading_labels", "done": 2, "total": 5}`), at most
    twice a second unless the stage changes.

    Stages: reading_documents, reading_labels (photos and scans), looking_up (units),
    checking, report. The pipeline names each document it starts reading; whether it is a
    label photo is known from the shipment's document rows.
    """

    def __init__(
        self,
        services: Services,
        tenant_id: str,
        shipment_id: str,
        images: Mapping[str, bool] | None = None,
    ) -> None:
        self.services = services
        self.tenant_id = tenant_id
        self.shipment_id = shipment_id
        self.status = ShipmentStatus.EXTRACTING
        self.images = dict(images or {})  # filename -> is a photo or scan
        totals = {"reading_labels": 0, "reading_documents": 0}
        for is_image in self.images.values():
            totals["reading_labels" if is_image else "reading_documents"] += 1
        self.totals = totals
        self.read = {"reading_labels": 0, "reading_documents": 0}
        self.stage: dict[str, object] | None = None
        self.last = 0.0

    def _stage(self, words: str, fraction: float | None) -> dict[str, object] | None:
        lowered = words.lower()
        if lowered.startswith("reading "):
            name = words[len("reading ") :]
            kind = "reading_labels" if self.images.get(name) else "reading_documents"
            for other in self.read:  # the previous document is read by now
                if self.stage is not None and self.stage.get("stage") == other:
                    self.read[other] = min(self.read[other] + 1, self.totals[other])
            return {"stage": kind, "done": self.read[kind], "total": self.totals[kind]}
        if lowered == "read":
            for other in self.read:
                self.read[other] = self.totals[other]
            return None
        if lowered.startswith("looking up"):
            number = lowered.split()[2] if len(lowered.split()) > 2 else "0"
            total = int(number) if number.isdigit() else 0
            return {"stage": "looking_up", "done": 0, "total": total}
        if lowered == "looked up" and self.stage and self.stage.get("stage") == "looking_up":
            total = int(str(self.stage.get("total", 0)))
            done = round(total * (fraction or 0.0))
            return {"stage": "looking_up", "done": done, "total": total}
        if lowered.startswith("checking"):
            return {"stage": "checking", "done": 0, "total": 0}
        return None

    def __call__(self, stage: str | None, fraction: float | None) -> None:
        new_status = self.status
        new_stage = self.stage
        if stage in ShipmentStatus.OPEN:
            new_status = stage
        elif stage:  # the pipeline's own words: "reading <file>", "read", "looking up", ...
            lowered = stage.lower()
            reading = "read" in lowered or "extract" in lowered
            new_status = ShipmentStatus.EXTRACTING if reading else ShipmentStatus.VERIFYING
            new_stage = self._stage(stage, fraction) or self.stage
        now = time.monotonic()
        moved = new_status != self.status or (
            (new_stage or {}).get("stage") != (self.stage or {}).get("stage")
        )
        if not moved and now - self.last < 0.5:
            return
        self.last = now
        # 5..95: 0 means "not started" and 100 is written only with the report
        percent = None if fraction is None else 5 + int(90 * max(0.0, min(1.0, fraction)))
        with self.services.sessions() as session:
            repo = TenantRepo(session, self.tenant_id)
            if new_status != self.status:
                repo.set_status(self.shipment_id, new_status, progress=percent)
                self.status = new_status
            elif percent is not None:
                repo.set_progress(self.shipment_id, percent)
            if new_stage != self.stage and new_stage is not None:
                repo.set_stage(self.shipment_id, new_stage)
            self.stage = new_stage
            session.commit()

    def report(self) -> None:
        """The last stage: writing the report (the row is written with the report itself)."""
        with self.services.sessions() as session:
            TenantRepo(session, self.tenant_id).set_stage(
                self.shipment_id, {"stage": "report", "done": 0, "total": 0}
            )
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


def _finish(
    services: Services, tenant_id: str, shipment_id: str, report: Report, version: int = 1
) -> str:
    """Store the report (as version `version`, with what changed against the previous one),
    the final status and the outbox rows in ONE transaction."""
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
        previous = repo.report(shipment_id, version - 1) if version > 1 else None
        if previous is not None:
            found = changes.compare(report_from_data(previous.body), report, previous.version)
            report = dataclasses.replace(report, version=version, changes=found)
        row = repo.save_report(
            shipment_id,
            str(report.verdict),
            report_to_data(report),
            version=version,
            changes=report.changes,
        )
        shipment = repo.get(shipment_id)
        for recipient in shipment.notify:
            repo.add_outbox(shipment_id, row.id, "email", recipient)
        tenant = repo.tenant()
        if tenant.webhook_url:
            repo.add_outbox(shipment_id, row.id, "webhook", tenant.webhook_url)
    return ShipmentStatus.DONE
