"""Registrations held in memory: `InMemoryRegistry` and the look-up answer both registries give.

Apart from `gateway.platform_client.local` (the database-backed registry) so that reading a
registry file for `gateway check --registry FILE` does not import the database layer.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path

from gateway.domain import Lookup, LookupStatus, RegistrationRecord
from gateway.logs import get_logger
from gateway.platform_client import contract
from gateway.platform_client.importer import read_registry_file
from gateway.platform_client.keys import is_unit_key, key_kind, record_keys

log = get_logger("gateway.platform_client.local")


def answer(key: str, records: Collection[RegistrationRecord], source: str) -> Lookup:
    """The look-up answer for `key`, given every record the key reaches.

    One record is FOUND; none is NOT_FOUND; two or more is a conflict and stays unverified.
    """
    if not is_unit_key(key):
        return Lookup(key, LookupStatus.UNVERIFIED, reason=_non_unit_reason(key), source=source)
    distinct = {r.record_id: r for r in records}
    if not distinct:
        return Lookup(key, LookupStatus.NOT_FOUND, reason=contract.REASON_NOT_FOUND, source=source)
    if len(distinct) > 1:
        return Lookup(key, LookupStatus.UNVERIFIED, reason=contract.REASON_CONFLICT, source=source)
    (record,) = distinct.values()
    if record.source != source:  # (a copy only when the answer's source differs)
        record = replace(record, source=source)
    return Lookup(key, LookupStatus.FOUND, record=record, source=source)


def _non_unit_reason(key: str) -> str:
    kind = key_kind(key)
    return contract.REASON_NOT_UNIT if kind in ("gtin", "lot") else contract.REASON_INVALID_SYNTAX


class InMemoryRegistry:
    """Registrations held in memory, indexed by every key that reaches them."""

    source = "registry"

    def __init__(self, records: Iterable[RegistrationRecord] = (), source: str = "registry"):
        self.source = source
        self.rejected: tuple[tuple[int, str], ...] = ()  # rows of the file left out, with why
        self._records: dict[str, RegistrationRecord] = {}
        self._index: dict[str, set[str]] = {}
        for record in records:
            self.add(record)

    @classmethod
    def from_file(cls, path: Path | str) -> InMemoryRegistry:
        """Read a CSV/XLSX registry export; rejected rows are left out."""
        result = read_registry_file(path)
        if result.rejected:
            log.warning(
                "registry_rows_rejected",
                file=Path(path).name,
                rejected=len(result.rejected),
                first=f"row {result.rejected[0][0]}: {result.rejected[0][1]}",
            )
        registry = cls()
        registry.rejected = result.rejected
        for row in result.rows:
            registry._add(row.record, row.keys)  # the reader found each row's keys already
        return registry

    def add(self, record: RegistrationRecord) -> None:
        """Add or replace a record (by record id) and index it by all its keys."""
        self._add(record, record_keys(record))

    def _add(self, record: RegistrationRecord, keys: Iterable[str]) -> None:
        old = self._records.get(record.record_id)
        if old is not None:
            for key in record_keys(old):
                self._index.get(key, set()).discard(record.record_id)
        self._records[record.record_id] = record
        for key in keys:
            self._index.setdefault(key, set()).add(record.record_id)

    def __len__(self) -> int:
        return len(self._records)

    def records(self) -> Iterator[RegistrationRecord]:
        """Every record, in insertion order."""
        return iter(self._records.values())

    def keys(self) -> list[str]:
        """Every key that reaches at least one record."""
        return [k for k, ids in self._index.items() if ids]

    def get(self, record_id: str) -> RegistrationRecord | None:
        """The record with this id, if any."""
        return self._records.get(record_id)

    def resolve(self, key: str) -> list[RegistrationRecord]:
        """Every record `key` reaches (more than one is a conflict)."""
        return [self._records[i] for i in sorted(self._index.get(key, ()))]

    def lookup(self, keys: Collection[str]) -> Mapping[str, Lookup]:
        """An answer for every key asked."""
        return {key: answer(key, self.resolve(key), self.source) for key in keys}

    def find(
        self, lot: str | None = None, design_id: str | None = None
    ) -> list[RegistrationRecord]:
        """Records of a lot and/or design, in record id order."""
        return sorted(
            (
                r
                for r in self._records.values()
                if (lot is None or r.lot == lot) and (design_id is None or r.design_id == design_id)
            ),
            key=lambda r: r.record_id,
        )
