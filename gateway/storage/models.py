"""The service's tables: tenants, API keys, shipments, documents, reports, outbox, history.

Every row that belongs to a customer carries `tenant_id`; the repositories in
`gateway.storage.repo` are the one place that filters on it. Ids are random and unguessable
(`secrets.token_hex`), so an id seen in a URL tells nothing about another tenant's data.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from gateway.storage.base import Base


class ShipmentStatus:
    """Status values of a shipment; the database is the record of truth for them."""

    RECEIVED = "received"
    EXTRACTING = "extracting"
    VERIFYING = "verifying"
    DONE = "done"
    REJECTED = "rejected"

    FINAL = (DONE, REJECTED)
    OPEN = (RECEIVED, EXTRACTING, VERIFYING)


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class Tenant(Base):
    """A customer of the gateway (a forwarder, a broker, a warehouse operator)."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="en")  # "en" | "zh"
    ruleset_override: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    webhook_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    webhook_secret: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiKey(Base):
    """An API key: only its HMAC is stored; `id` is the non-secret prefix used to find it."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64))  # hex HMAC-SHA256(pepper, secret)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # the language its user chose on the web page; None: the tenant's language
    language: Mapped[str | None] = mapped_column(String(8), default=None)


class Shipment(Base):
    """One uploaded shipment: its facts, its documents and where it stands."""

    __tablename__ = "shipments"
    __table_args__ = (Index("ix_shipments_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    reference: Mapped[str] = mapped_column(String(200), default="")
    destination: Mapped[str | None] = mapped_column(String(2), default=None)
    transport_mode: Mapped[str | None] = mapped_column(String(16), default=None)
    notify: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=ShipmentStatus.RECEIVED, index=True)
    reason: Mapped[str | None] = mapped_column(Text, default=None)  # why rejected
    reason_code: Mapped[str | None] = mapped_column(String(64), default=None)
    # per refused document: id, filename, reason code, the limit hit (name, value), message
    rejection_details: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    progress: Mapped[int] = mapped_column(Integer, default=0)  # 0..100
    # where the check stands: {"stage": "lookup", "done": 3, "total": 12}
    stage: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    # uploads so far: 1, then one more per re-check with corrected documents
    rounds: Mapped[int] = mapped_column(Integer, default=1)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # job starts so far
    verdict: Mapped[str | None] = mapped_column(String(16), default=None, index=True)
    counts: Mapped[dict[str, int] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status_changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    declared_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    purged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class ShipmentDocument(Base):
    """One stored document of a shipment; the bytes live in the BlobStore under `blob_key`."""

    __tablename__ = "shipment_documents"
    __table_args__ = (UniqueConstraint("shipment_id", "doc_id", name="uq_documents_shipment_doc"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    doc_id: Mapped[str] = mapped_column(String(16))  # "d1", "d2": unique within the shipment
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), index=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))  # display only, never a path
    media_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    blob_key: Mapped[str | None] = mapped_column(String(200))  # None once purged
    round: Mapped[int] = mapped_column(Integer, default=1)  # the upload it came with
    # the re-check whose corrected document replaced it (None: still part of the shipment)
    replaced_in: Mapped[int | None] = mapped_column(Integer, default=None)


class IdempotencyRecord(Base):
    """The first answer to an `Idempotency-Key`, replayed to retries of the same request."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("tenant_id", "key", name="uq_idempotency_tenant_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_sha256: Mapped[str] = mapped_column(String(64))
    shipment_id: Mapped[str | None] = mapped_column(String(32), default=None)
    response: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReportRow(Base):
    """One version of a shipment's report: version 1 for the first upload, one more per
    re-check (a re-run of the same round upserts its version). Every version is kept."""

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("shipment_id", "version", name="uq_reports_shipment_version"),
    )

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), index=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    verdict: Mapped[str] = mapped_column(String(16))
    body: Mapped[dict[str, object]] = mapped_column(JSON)  # gateway.storage.codec form
    # what changed against the previous version (gateway.reports.changes form); None for v1
    changes: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OutboxMessage(Base):
    """An email or webhook call owed for a report, written in the report's transaction."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("report_id", "kind", "recipient", name="uq_outbox_report_recipient"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"))
    report_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))  # "email" | "webhook"
    recipient: Mapped[str] = mapped_column(String(2000))  # address or URL
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    message_id: Mapped[str | None] = mapped_column(String(200), default=None)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DeclaredCode(Base):
    """A unit key that went to customs on a declared shipment (duplicate-export history)."""

    __tablename__ = "declared_codes"
    __table_args__ = (UniqueConstraint("tenant_id", "key", name="uq_declared_tenant_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    key: Mapped[str] = mapped_column(String(300))
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"))
    declared_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BlobRow(Base):
    """Document bytes, for the database-backed BlobStore (scale-out without shared disks)."""

    __tablename__ = "blobs"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


# -- the local registry (read by `gateway.platform_client.local.LocalRegistry`) ----------


class RegistryRecordRow(Base):
    """One registration record of the local registry, stored as its v1 contract JSON."""

    __tablename__ = "registry_records"

    record_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    status: Mapped[str] = mapped_column(String(32))
    gtin: Mapped[str | None] = mapped_column(String(14))
    serial: Mapped[str | None] = mapped_column(String(64))
    gb_code: Mapped[str | None] = mapped_column(String(64))
    lot: Mapped[str | None] = mapped_column(String(64), index=True)
    design_id: Mapped[str | None] = mapped_column(String(128), index=True)
    data: Mapped[str] = mapped_column(Text)  # the record in the v1 wire format
    content_hash: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class RegistryKeyRow(Base):
    """One key by which a record is reached. A key on two records is a conflict, kept as data."""

    __tablename__ = "registry_keys"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    record_id: Mapped[str] = mapped_column(
        String(128),
        ForeignKey("registry_records.record_id", ondelete="CASCADE"),
        primary_key=True,
    )

    __table_args__ = (Index("ix_registry_keys_record_id", "record_id"),)


REGISTRY_TABLES: tuple[Table, ...] = (
    cast(Table, RegistryRecordRow.__table__),
    cast(Table, RegistryKeyRow.__table__),
)
