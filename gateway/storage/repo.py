"""Repositories: the ONE place that scopes data to a tenant.

Views and jobs never query models directly: they get a `TenantRepo` for the tenant of the
authenticated key (or of the shipment a job runs), and every query it makes filters on that
tenant. An id that belongs to someone else therefore looks exactly like an unknown id
(`NotFound`, 404).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, cast, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.errors import InputError, NotFound, ServiceError
from gateway.storage.models import (
    ApiKey,
    DeclaredCode,
    IdempotencyRecord,
    OutboxMessage,
    ReportRow,
    Shipment,
    ShipmentDocument,
    ShipmentStatus,
    Tenant,
    utcnow,
)

KEY_PREFIX = "gw"


def new_id() -> str:
    """A random, unguessable object id (128 bits, hex)."""
    return secrets.token_hex(16)


def key_digest(pepper: str, key_id: str, secret: str) -> str:
    """HMAC-SHA256 of the key's secret under the server's pepper (random keys need no KDF)."""
    return hmac.new(pepper.encode(), f"{key_id}.{secret}".encode(), hashlib.sha256).hexdigest()


def split_key(raw: str) -> tuple[str, str] | None:
    """`gw_<id>_<secret>` -> (id, secret); None when the text is not shaped like a key."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or len(parts[2]) < 16:
        return None
    return parts[1], parts[2]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the tenant and the key used."""

    tenant_id: str
    key_id: str
    tenant_name: str
    language: str  # the tenant's language: reports, emails and API answers
    chosen_language: str | None = None  # the user's choice on the web page, kept with the key


class Admin:
    """Operator actions that are not scoped to one tenant: tenants and keys."""

    def __init__(self, session: Session, pepper: str) -> None:
        self.session = session
        self.pepper = pepper

    def create_tenant(
        self,
        name: str,
        *,
        language: str = "en",
        ruleset_override: Mapping[str, object] | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> Tenant:
        """Create a tenant; the name must be new."""
        name = name.strip()
        if not name or len(name) > 200:
            msg = f"Tenant name {name!r} must be 1 to 200 characters."
            raise InputError(msg)
        if language not in ("en", "zh"):
            msg = f"Tenant language {language!r} is not supported: expected 'en' or 'zh'."
            raise InputError(msg)
        if self.tenant_by_name(name) is not None:
            msg = f"Tenant {name!r} already exists."
            raise InputError(msg)
        tenant = Tenant(
            id=new_id(),
            name=name,
            language=language,
            ruleset_override=dict(ruleset_override) if ruleset_override else None,
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
        )
        self.session.add(tenant)
        self.session.flush()
        return tenant

    def tenant_by_name(self, name: str) -> Tenant | None:
        """The tenant called `name`, if any."""
        return self.session.scalar(select(Tenant).where(Tenant.name == name))

    def tenants(self) -> list[Tenant]:
        """Every tenant, by name."""
        return list(self.session.scalars(select(Tenant).order_by(Tenant.name)))

    def create_key(self, tenant_id: str, label: str = "") -> tuple[ApiKey, str]:
        """A new key for the tenant: returns the row and the full key, which is never stored."""
        if self.session.get(Tenant, tenant_id) is None:
            msg = f"No tenant with id {tenant_id!r}."
            raise NotFound(msg)
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        row = ApiKey(
            id=key_id,
            tenant_id=tenant_id,
            digest=key_digest(self.pepper, key_id, secret),
            label=label,
        )
        self.session.add(row)
        self.session.flush()
        return row, f"{KEY_PREFIX}_{key_id}_{secret}"

    def revoke_key(self, key_id: str) -> ApiKey:
        """Revoke a key by its id (the part after `gw_`); revoking twice is harmless."""
        row = self.session.get(ApiKey, key_id)
        if row is None:
            msg = f"No API key with id {key_id!r}."
            raise NotFound(msg)
        if row.revoked_at is None:
            row.revoked_at = utcnow()
        return row

    def authenticate(self, raw_key: str) -> Principal | None:
        """The principal for a presented key, or None (unknown, malformed or revoked)."""
        parts = split_key(raw_key)
        if parts is None:
            return None
        key_id, secret = parts
        row = self.session.get(ApiKey, key_id)
        expected = key_digest(self.pepper, key_id, secret)
        # compare even when the row is missing, so timing does not reveal which ids exist
        stored = row.digest if row is not None else "0" * 64
        if not hmac.compare_digest(stored, expected) or row is None or row.revoked_at:
            return None
        tenant = self.session.get(Tenant, row.tenant_id)
        if tenant is None:
            return None
        return Principal(tenant.id, key_id, tenant.name, tenant.language, row.language)

    def principal_for_key_id(self, key_id: str, tenant_id: str) -> Principal | None:
        """The principal of a web session, while its key is still valid for that tenant."""
        row = self.session.get(ApiKey, key_id)
        if row is None or row.revoked_at is not None or row.tenant_id != tenant_id:
            return None
        tenant = self.session.get(Tenant, tenant_id)
        if tenant is None:
            return None
        return Principal(tenant.id, key_id, tenant.name, tenant.language, row.language)

    def shipment_tenant(self, shipment_id: str) -> str | None:
        """The tenant owning a shipment: used only by jobs, which receive bare ids."""
        return self.session.scalar(select(Shipment.tenant_id).where(Shipment.id == shipment_id))

    def stuck_shipments(self, older_than: dt.datetime, limit: int = 500) -> list[str]:
        """Ids of shipments in a non-final status whose status has not moved since a time."""
        query = (
            select(Shipment.id)
            .where(Shipment.status.in_(ShipmentStatus.OPEN))
            .where(Shipment.status_changed_at < older_than)
            .order_by(Shipment.status_changed_at)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def due_outbox(self, now: dt.datetime, limit: int = 100) -> list[int]:
        """Ids of outbox messages due for a delivery attempt."""
        query = (
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "pending")
            .where(OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def expired_documents(self, before: dt.datetime) -> list[ShipmentDocument]:
        """Documents of shipments created before `before` whose bytes are still stored."""
        query = (
            select(ShipmentDocument)
            .join(Shipment, Shipment.id == ShipmentDocument.shipment_id)
            .where(Shipment.created_at < before)
            .where(ShipmentDocument.blob_key.is_not(None))
        )
        return list(self.session.scalars(query))


@dataclass(frozen=True, slots=True)
class ShipmentFilter:
    """Filters of `GET /v1/shipments`."""

    status: str | None = None
    verdict: str | None = None
    reference: str | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    destination: str | None = None  # ISO alpha-2
    text: str | None = None  # part of the reference, of a document's name or of a unit code


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def encode_cursor(shipment: Shipment) -> str:
    """An opaque keyset cursor after `shipment` (newest first)."""
    raw = f"{shipment.created_at.isoformat()}|{shipment.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    """Inverse of `encode_cursor`; InputError for anything that is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, sid = raw.partition("|")
        return dt.datetime.fromisoformat(when), sid
    except (ValueError, UnicodeDecodeError):
        msg = f"Cursor {cursor!r} is not valid: pass the 'next_cursor' of a previous page."
        raise InputError(msg) from None


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite returns naive datetimes even for timezone=True columns; they were stored as UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class TenantRepo:
    """Every read and write of one tenant's data."""

    def __init__(self, session: Session, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    # -- tenant -----------------------------------------------------------------------------
    def tenant(self) -> Tenant:
        """The tenant row itself."""
        tenant = self.session.get(Tenant, self.tenant_id)
        if tenant is None:
            msg = f"No tenant with id {self.tenant_id!r}."
            raise NotFound(msg)
        return tenant

    def choose_language(self, key_id: str, language: str) -> None:
        """Keep the language a user chose on the web page with the user's key."""
        row = self.session.get(ApiKey, key_id)
        if row is None or row.tenant_id != self.tenant_id:
            msg = f"No API key with id {key_id!r}."
            raise NotFound(msg)
        row.language = language

    # -- shipments --------------------------------------------------------------------------
    def get(self, shipment_id: str, *, lock: bool = False) -> Shipment:
        """The tenant's shipment; NotFound for unknown and foreign ids alike."""
        query = select(Shipment).where(
            Shipment.id == shipment_id, Shipment.tenant_id == self.tenant_id
        )
        if lock:
            query = query.with_for_update()
        shipment = self.session.scalar(query)
        if shipment is None:
            msg = f"No shipment {shipment_id!r}."
            raise NotFound(msg)
        return shipment

    def add_shipment(
        self,
        *,
        reference: str,
        destination: str | None,
        transport_mode: str | None,
        notify: Sequence[str],
        documents: Sequence[Mapping[str, Any]],
    ) -> Shipment:
        """Insert a shipment and its document rows (blobs already stored)."""
        shipment = Shipment(
            id=new_id(),
            tenant_id=self.tenant_id,
            reference=reference,
            destination=destination,
            transport_mode=transport_mode,
            notify=list(notify),
            status=ShipmentStatus.RECEIVED,
            progress=0,
            attempts=0,
        )
        self.session.add(shipment)
        for position, doc in enumerate(documents):
            self.session.add(
                ShipmentDocument(
                    id=new_id(),
                    doc_id=f"d{position + 1}",
                    shipment_id=shipment.id,
                    tenant_id=self.tenant_id,
                    position=position,
                    filename=doc["filename"],
                    media_type=doc["media_type"],
                    sha256=doc["sha256"],
                    size=doc["size"],
                    blob_key=doc["blob_key"],
                )
            )
        self.session.flush()
        return shipment

    def documents(self, shipment_id: str, *, replaced: bool = False) -> list[ShipmentDocument]:
        """The shipment's documents in upload order: those the next check reads, or with
        `replaced` also those a re-check's corrected documents replaced."""
        query = (
            select(ShipmentDocument)
            .where(
                ShipmentDocument.shipment_id == shipment_id,
                ShipmentDocument.tenant_id == self.tenant_id,
            )
            .order_by(ShipmentDocument.position)
        )
        if not replaced:
            query = query.where(ShipmentDocument.replaced_in.is_(None))
        return list(self.session.scalars(query))

    def recheck(self, shipment_id: str, documents: Sequence[Mapping[str, Any]]) -> Shipment:
        """Add corrected documents to a checked shipment and open it for the next check.

        A document named like one already in the shipment replaces it (the old one is kept,
        marked `replaced_in`); other names are added. The shipment's round goes up by one, and
        its next report is the next version. Raises Conflict while the shipment is open.
        """
        shipment = self.get(shipment_id, lock=True)
        if shipment.status in ShipmentStatus.OPEN:
            msg = "The shipment is still being checked; upload the corrections when it is done."
            raise ServiceError(msg, status=409, code="shipment_open")
        if shipment.purged_at is not None:
            msg = "The shipment's documents were removed by the retention policy."
            raise ServiceError(msg, status=409, code="shipment_purged")
        round_no = shipment.rounds + 1
        every = self.documents(shipment_id, replaced=True)
        names = {d["filename"] for d in documents}
        for row in every:
            if row.replaced_in is None and row.filename in names:
                row.replaced_in = round_no
        position = max((d.position for d in every), default=-1) + 1
        for offset, doc in enumerate(documents):
            self.session.add(
                ShipmentDocument(
                    id=new_id(),
                    doc_id=f"d{position + offset + 1}",
                    shipment_id=shipment_id,
                    tenant_id=self.tenant_id,
                    position=position + offset,
                    filename=doc["filename"],
                    media_type=doc["media_type"],
                    sha256=doc["sha256"],
                    size=doc["size"],
                    blob_key=doc["blob_key"],
                    round=round_no,
                )
            )
        shipment.rounds = round_no
        shipment.status = ShipmentStatus.RECEIVED
        shipment.progress = 0
        shipment.attempts = 0
        shipment.stage = None
        shipment.reason = None
        shipment.reason_code = None
        shipment.rejection_details = None
        shipment.status_changed_at = utcnow()
        self.session.flush()
        return shipment

    def page(
        self, filters: ShipmentFilter, *, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[Shipment], str | None]:
        """A page of shipments, newest first, and the cursor of the next page (or None)."""
        query = select(Shipment).where(Shipment.tenant_id == self.tenant_id)
        if filters.status:
            query = query.where(Shipment.status == filters.status)
        if filters.verdict:
            query = query.where(Shipment.verdict == filters.verdict)
        if filters.reference:
            query = query.where(Shipment.reference == filters.reference)
        if filters.created_after:
            query = query.where(Shipment.created_at >= filters.created_after)
        if filters.created_before:
            query = query.where(Shipment.created_at < filters.created_before)
        if filters.destination:
            query = query.where(Shipment.destination == filters.destination)
        if filters.text:
            pattern = _like(filters.text)
            named = select(ShipmentDocument.shipment_id).where(
                ShipmentDocument.tenant_id == self.tenant_id,
                ShipmentDocument.filename.ilike(pattern, escape="\\"),
            )
            # unit codes are searched in the stored report (its units hold key and raw code)
            coded = select(ReportRow.shipment_id).where(
                ReportRow.tenant_id == self.tenant_id,
                cast(ReportRow.body, String).like(pattern, escape="\\"),
            )
            query = query.where(
                or_(
                    Shipment.reference.ilike(pattern, escape="\\"),
                    Shipment.id.in_(named),
                    Shipment.id.in_(coded),
                )
            )
        if cursor:
            when, sid = decode_cursor(cursor)
            query = query.where(
                or_(
                    Shipment.created_at < when,
                    and_(Shipment.created_at == when, Shipment.id < sid),
                )
            )
        query = query.order_by(Shipment.created_at.desc(), Shipment.id.desc()).limit(limit + 1)
        rows = list(self.session.scalars(query))
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, encode_cursor(rows[-1]) if more and rows else None

    def set_status(
        self,
        shipment_id: str,
        status: str,
        *,
        progress: int | None = None,
        reason: str | None = None,
        reason_code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> bool:
        """Move an open shipment to `status`; False when it is already final (a lost race)."""
        values: dict[str, Any] = {"status": status, "status_changed_at": utcnow()}
        if progress is not None:
            values["progress"] = progress
        if reason is not None:
            values["reason"] = reason
            values["reason_code"] = reason_code
            values["rejection_details"] = details
        result = self.session.execute(
            update(Shipment)
            .where(Shipment.id == shipment_id, Shipment.tenant_id == self.tenant_id)
            .where(Shipment.status.in_(ShipmentStatus.OPEN))
            .values(**values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def set_progress(self, shipment_id: str, progress: int) -> None:
        """Record progress (0..100) of an open shipment; also proves the job is alive."""
        self.session.execute(
            update(Shipment)
            .where(Shipment.id == shipment_id, Shipment.tenant_id == self.tenant_id)
            .where(Shipment.status.in_(ShipmentStatus.OPEN))
            .values(progress=max(0, min(100, progress)), status_changed_at=utcnow())
        )

    def set_stage(self, shipment_id: str, stage: Mapping[str, object]) -> None:
        """Record where the check of an open shipment stands (stage name and counts)."""
        self.session.execute(
            update(Shipment)
            .where(Shipment.id == shipment_id, Shipment.tenant_id == self.tenant_id)
            .where(Shipment.status.in_(ShipmentStatus.OPEN))
            .values(stage=dict(stage))
        )

    def count_open(self) -> int:
        """Shipments of this tenant still waiting or running (caps queue use per tenant)."""
        query = select(func.count()).where(
            Shipment.tenant_id == self.tenant_id, Shipment.status.in_(ShipmentStatus.OPEN)
        )
        return int(self.session.scalar(query) or 0)

    # -- reports ----------------------------------------------------------------------------
    def report(self, shipment_id: str, version: int | None = None) -> ReportRow | None:
        """The shipment's latest report (or the given version), if it has one."""
        query = select(ReportRow).where(
            ReportRow.shipment_id == shipment_id, ReportRow.tenant_id == self.tenant_id
        )
        if version is not None:
            query = query.where(ReportRow.version == version)
        return self.session.scalar(query.order_by(ReportRow.version.desc()).limit(1))

    def report_by_id(self, shipment_id: str, report_id: str) -> ReportRow | None:
        """One version of the shipment's report by its id."""
        return self.session.scalar(
            select(ReportRow).where(
                ReportRow.id == report_id,
                ReportRow.shipment_id == shipment_id,
                ReportRow.tenant_id == self.tenant_id,
            )
        )

    def reports(self, shipment_id: str) -> list[ReportRow]:
        """Every version of the shipment's report, oldest first."""
        query = (
            select(ReportRow)
            .where(ReportRow.shipment_id == shipment_id, ReportRow.tenant_id == self.tenant_id)
            .order_by(ReportRow.version)
        )
        return list(self.session.scalars(query))

    def save_report(
        self,
        shipment_id: str,
        verdict: str,
        body: Mapping[str, Any],
        *,
        version: int = 1,
        changes: Mapping[str, Any] | None = None,
    ) -> ReportRow:
        """Upsert one version of the shipment's report (a re-run of a round rewrites its
        version; earlier versions stay). The id is derived from the shipment id and version."""
        row = self.report(shipment_id, version)
        if row is None:
            row = ReportRow(
                id=f"rpt_{shipment_id}" if version == 1 else f"rpt_{shipment_id}_v{version}",
                shipment_id=shipment_id,
                tenant_id=self.tenant_id,
                version=version,
                verdict=verdict,
                body=dict(body),
                changes=dict(changes) if changes is not None else None,
            )
            self.session.add(row)
        else:
            row.verdict = verdict
            row.body = dict(body)
            row.changes = dict(changes) if changes is not None else None
            row.created_at = utcnow()
        self.session.flush()
        return row

    # -- outbox -----------------------------------------------------------------------------
    def add_outbox(self, shipment_id: str, report_id: str, kind: str, recipient: str) -> None:
        """Owe one message for a report; a second call for the same recipient is a no-op."""
        exists = self.session.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.report_id == report_id,
                OutboxMessage.kind == kind,
                OutboxMessage.recipient == recipient,
            )
        )
        if exists is None:
            self.session.add(
                OutboxMessage(
                    tenant_id=self.tenant_id,
                    shipment_id=shipment_id,
                    report_id=report_id,
                    kind=kind,
                    recipient=recipient,
                )
            )

    def outbox(self, shipment_id: str) -> list[OutboxMessage]:
        """The messages owed for a shipment."""
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.shipment_id == shipment_id,
                OutboxMessage.tenant_id == self.tenant_id,
            )
            .order_by(OutboxMessage.id)
        )
        return list(self.session.scalars(query))

    # -- idempotency ------------------------------------------------------------------------
    def idempotency(self, key: str) -> IdempotencyRecord | None:
        """The stored record for an Idempotency-Key, if any."""
        return self.session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.tenant_id == self.tenant_id, IdempotencyRecord.key == key
            )
        )

    def claim_idempotency(self, key: str, request_sha256: str) -> IdempotencyRecord | None:
        """Insert-first claim of a key, committed at once; None when someone holds it already."""
        record = IdempotencyRecord(tenant_id=self.tenant_id, key=key, request_sha256=request_sha256)
        self.session.add(record)
        try:
            self.session.commit()
        except IntegrityError:
            self.session.rollback()
            return None
        return record

    def release_idempotency(self, key: str) -> None:
        """Forget an unfinished claim (the request failed before anything was stored)."""
        self.session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.tenant_id == self.tenant_id,
                IdempotencyRecord.key == key,
                IdempotencyRecord.shipment_id.is_(None),
            )
        )
        self.session.commit()

    def purge_idempotency(self, before: dt.datetime) -> int:
        """Drop finished keys older than `before`; returns how many went."""
        result = self.session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.tenant_id == self.tenant_id,
                IdempotencyRecord.created_at < before,
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    # -- declared history -------------------------------------------------------------------
    def declare(self, shipment_id: str, keys: Iterable[str]) -> int:
        """Record a shipment as declared to customs; returns how many keys were new."""
        shipment = self.get(shipment_id)
        if shipment.declared_at is None:
            shipment.declared_at = utcnow()
        wanted = sorted(set(keys))
        known = set(
            self.session.scalars(
                select(DeclaredCode.key).where(
                    DeclaredCode.tenant_id == self.tenant_id, DeclaredCode.key.in_(wanted)
                )
            )
        )
        new = [k for k in wanted if k not in known]
        for key in new:
            self.session.add(
                DeclaredCode(tenant_id=self.tenant_id, key=key, shipment_id=shipment_id)
            )
        self.session.flush()
        return len(new)

    def exported(self, keys: Iterable[str], *, exclude: str | None = None) -> dict[str, str]:
        """Unit key -> the earlier declared shipment that carried it (this tenant only)."""
        wanted = sorted(set(keys))
        found: dict[str, str] = {}
        for start in range(0, len(wanted), 500):  # bounded IN lists
            chunk = wanted[start : start + 500]
            rows = self.session.execute(
                select(DeclaredCode.key, DeclaredCode.shipment_id).where(
                    DeclaredCode.tenant_id == self.tenant_id, DeclaredCode.key.in_(chunk)
                )
            )
            for key, sid in rows:
                if sid != exclude:
                    found[key] = sid
        return found


def aware(value: dt.datetime) -> dt.datetime:
    """`value` with UTC attached when the database returned it naive (SQLite)."""
    return _aware(value)
