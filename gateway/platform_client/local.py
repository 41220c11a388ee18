"""The local registry: registrations an exporter imports from its own records.

Two backends answer look-ups the same way as the platform contract: `LocalRegistry` over a
table in the gateway's database (filled by `gateway registry import FILE`) and
`InMemoryRegistry` (for `gateway check --registry FILE`, the simulator and tests).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import structlog
from sqlalchemy import (
    Engine,
    delete,
    select,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gateway.domain import Lookup, LookupStatus, RegistrationRecord
from gateway.platform_client import contract
from gateway.platform_client.importer import (
    ParsedRow,
    content_hash,
    read_registry_file,
)
from gateway.platform_client.keys import is_unit_key
from gateway.platform_client.memory import InMemoryRegistry, answer
from gateway.storage.base import Base
from gateway.storage.models import REGISTRY_TABLES, RegistryKeyRow, RegistryRecordRow

__all__ = [
    "REASON_REGISTRY_UNAVAILABLE",
    "REGISTRY_TABLES",
    "ImportResult",
    "InMemoryRegistry",
    "LocalRegistry",
    "answer",
    "import_registry_file",
]

log = structlog.get_logger(__name__)

REASON_REGISTRY_UNAVAILABLE = "registry_unavailable"
_CHUNK = 500  # keys per IN (...) query; well under every database's parameter limit


class LocalRegistry:
    """Registrations in the gateway's database (tables `registry_records`, `registry_keys`)."""

    source = "registry"

    def __init__(self, engine: Engine):
        self._engine = engine

    def create_tables(self) -> None:
        """Create the registry's tables when missing (migrations do this in production)."""
        Base.metadata.create_all(self._engine, tables=list(REGISTRY_TABLES))

    def lookup(self, keys: Collection[str]) -> Mapping[str, Lookup]:
        """An answer for every key asked; a database error leaves keys unverified."""
        found: dict[str, list[RegistrationRecord]] = {}
        broken: dict[str, str] = {}  # key -> reason it cannot be answered
        unit_keys = [k for k in dict.fromkeys(keys) if is_unit_key(k)]
        try:
            with Session(self._engine) as session:
                for start in range(0, len(unit_keys), _CHUNK):
                    chunk = unit_keys[start : start + _CHUNK]
                    rows = session.execute(
                        select(RegistryKeyRow.key, RegistryRecordRow.data)
                        .join(
                            RegistryRecordRow,
                            RegistryRecordRow.record_id == RegistryKeyRow.record_id,
                        )
                        .where(RegistryKeyRow.key.in_(chunk))
                    )
                    for key, data in rows:
                        try:
                            found.setdefault(key, []).append(_load(data))
                        except (ValueError, contract.ContractError):
                            broken[key] = contract.REASON_MALFORMED
        except SQLAlchemyError as exc:
            log.warning("registry_lookup_failed", error=type(exc).__name__, keys=len(unit_keys))
            broken = dict.fromkeys(unit_keys, REASON_REGISTRY_UNAVAILABLE)
        out: dict[str, Lookup] = {}
        for key in keys:
            if key in broken:
                out[key] = Lookup(
                    key, LookupStatus.UNVERIFIED, reason=broken[key], source=self.source
                )
            else:
                out[key] = answer(key, found.get(key, ()), self.source)
        return out

    def get(self, record_id: str) -> RegistrationRecord | None:
        """The record with this id, if any."""
        with Session(self._engine) as session:
            row = session.get(RegistryRecordRow, record_id)
            return None if row is None else _load(row.data)

    def count(self) -> int:
        """How many records the registry holds."""
        with Session(self._engine) as session:
            return len(session.scalars(select(RegistryRecordRow.record_id)).all())


def _load(data: str) -> RegistrationRecord:
    return contract.record_from_wire(json.loads(data), source="registry")


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did. Re-importing the same file gives only `unchanged`."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (row, reason)
    columns: Mapping[str, str] = field(default_factory=dict)  # header as written -> field


def import_registry_file(
    path: Path | str, target: Engine | Session, *, now: dt.datetime | None = None
) -> ImportResult:
    """Upsert the records of a CSV/XLSX registry export into the local registry.

    Records are matched by the file's record id or, when the file has none, by their keys, so
    importing the same file twice changes nothing. Rows that cannot become a record are
    returned in `rejected` with their row number and reason; the rest is imported.

    Raises:
        RegistryFileError: the file as a whole is not a readable registry export.
    """
    read = read_registry_file(path)
    stamp = now or dt.datetime.now(dt.UTC)
    if isinstance(target, Session):
        result = _upsert(target, read.rows, stamp)
    else:
        with Session(target) as session, session.begin():
            result = _upsert(session, read.rows, stamp)
    inserted, updated, unchanged, rejected = result
    rejected = sorted([*read.rejected, *rejected])
    return ImportResult(inserted, updated, unchanged, rejected, read.columns)


def _upsert(
    session: Session, rows: Iterable[ParsedRow], stamp: dt.datetime
) -> tuple[int, int, int, list[tuple[int, str]]]:
    inserted = updated = unchanged = 0
    rejected: list[tuple[int, str]] = []
    for parsed in rows:
        record = parsed.record
        if not parsed.explicit_id:
            owners = set(
                session.scalars(
                    select(RegistryKeyRow.record_id).where(RegistryKeyRow.key.in_(parsed.keys))
                )
            )
            if len(owners) > 1:
                msg = (
                    f"codes {sorted(parsed.keys)} belong to different records {sorted(owners)}; "
                    "give the row a record id"
                )
                rejected.append((parsed.row, msg))
                continue
            if owners:
                record = replace(record, record_id=owners.pop())
        digest = content_hash(record)
        row = session.get(RegistryRecordRow, record.record_id)
        if row is not None and row.content_hash == digest:
            unchanged += 1
            continue
        data = json.dumps(contract.record_to_wire(record), ensure_ascii=False, sort_keys=True)
        if row is None:
            row = RegistryRecordRow(record_id=record.record_id)
            session.add(row)
            inserted += 1
        else:
            session.execute(
                delete(RegistryKeyRow).where(RegistryKeyRow.record_id == record.record_id)
            )
            updated += 1
        row.status = record.status.value
        row.gtin, row.serial, row.gb_code = record.gtin, record.serial, record.gb_code
        row.lot, row.design_id = record.lot, record.design_id
        row.data, row.content_hash, row.imported_at = data, digest, stamp
        session.flush()
        session.add_all(RegistryKeyRow(key=k, record_id=record.record_id) for k in parsed.keys)
        session.flush()
    return inserted, updated, unchanged, rejected
