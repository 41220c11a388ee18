"""What a rule sees: the shipment's documents, codes, look-ups and facts, all prefetched.

Rules do no I/O. The pipeline builds one `RuleContext` per shipment; every rule reads it and
yields findings. Nothing here imports a parser, a database or a web library.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, cast

from gateway.countries import normalize_country
from gateway.domain import (
    UNIT_KEY_KINDS,
    CodeOccurrence,
    DecodedCode,
    Document,
    Extraction,
    Lookup,
    LookupStatus,
    ManifestLine,
    RegistrationRecord,
    Scheme,
    SourceRef,
)

T = TypeVar("T")

# Title-block facts and the header (or extra column) keys that may carry them. The first key
# is the name the document reader is asked to produce; the others are accepted spellings.
FACT_KEYS: Mapping[str, tuple[str, ...]] = {
    "dg_packaging_cert": ("dg_packaging_cert", "dg_packaging_appraisal", "packaging_cert"),
    "eori": ("consignee_eori", "eori", "importer_eori"),
    "un38_3": ("un38_3", "un38_3_summary", "un38_3_report"),
    "msds": ("msds", "sds", "msds_no", "sds_no"),
    "dg_declaration": ("dg_declaration", "dgd", "dgd_no", "dg_declaration_no"),
    "declaration_elements": ("declaration_elements",),
    "packages": ("packages", "total_packages"),
}


@dataclass(frozen=True)
class ShipmentFacts:
    """What the user states about the shipment, beside its documents."""

    shipment_id: str
    reference: str = ""
    destination: str | None = None  # ISO 3166-1 alpha-2
    transport_mode: str | None = None  # "sea", "air", "road", "rail"
    declared_on: dt.date | None = None
    tenant_ruleset: Mapping[str, object] | None = None  # override, same shape as the YAML


@dataclass(frozen=True)
class CodeItem:
    """One code of the shipment with everything known about it."""

    decoded: DecodedCode
    occurrence: CodeOccurrence
    document: Document
    line: ManifestLine | None = None  # None for loose codes (labels, serial lists)
    lookup: Lookup | None = None  # None when the code has no unit key or was not looked up
    label: str | None = None  # codes sharing a label id were printed on one label

    @property
    def key(self) -> str | None:
        """The normalized unit key, if any."""
        return self.decoded.key

    @property
    def is_unit(self) -> bool:
        """True when the code identifies one battery unit (not a pallet or a model).

        An SSCC counts only when the registry knows it (a containerised system keyed on it).
        """
        if self.decoded.key is None or not self.decoded.valid:
            return False  # an invalid code identifies nothing for sure; syntax rules report it
        if self.decoded.key_kind == "sscc":
            return self.lookup is not None and self.lookup.status is LookupStatus.FOUND
        return self.decoded.key_kind in UNIT_KEY_KINDS

    @functools.cached_property
    def unit(self) -> str | None:
        """The battery this code names: its registration record, else its key.

        A pack labelled with a GS1 code and a GB/T code is one unit when both reach one
        record; a unit listed on the invoice and on the packing list is one unit. None when
        the code is not a unit code.
        """
        if not self.is_unit:
            return None
        record = self.record
        if record is not None and record.record_id:
            return f"record:{record.record_id}"
        return self.key

    @functools.cached_property
    def record(self) -> RegistrationRecord | None:
        """The registration record when the look-up found one."""
        if self.lookup is not None and self.lookup.status is LookupStatus.FOUND:
            return self.lookup.record
        return None

    @functools.cached_property
    def ref(self) -> SourceRef:
        """Where the code was found, with the line number as printed when it is known."""
        source = self.occurrence.source
        if source.line is None and self.line is not None and self.line.line_no:
            return dataclasses.replace(source, line=self.line.line_no)
        return source

    @property
    def is_gb(self) -> bool:
        """True for GB/T 34014 and GB/T 45565 codes."""
        return self.decoded.scheme in (Scheme.GB34014, Scheme.GB45565)


@dataclass(frozen=True)
class RejectedDocument:
    """A document the shipment could not use, and why."""

    document: Document
    reason: str  # stable code, e.g. "corrupt_document"
    message: str


@dataclass(frozen=True)
class RuleContext:
    """Everything the rules of one shipment may read. Built once, read by every rule."""

    facts: ShipmentFacts
    today: dt.date
    extractions: tuple[Extraction, ...] = ()
    items: tuple[CodeItem, ...] = ()
    rejected: tuple[RejectedDocument, ...] = ()
    history: Mapping[str, str] = field(default_factory=dict)  # key -> earlier declaration
    platform_source: str = "registry"
    platform_contract: str = "assumed-v1"
    ruleset_label: str = "default"
    near_miss: object | None = None  # a NeighbourIndex or NearMissIndex, see rules.nearmiss
    checked_at: dt.datetime | None = None  # when the platform answered (the pipeline's clock)

    def lines(self) -> Iterator[tuple[Extraction, ManifestLine]]:
        """Every manifest line of every document, in document order."""
        for extraction in self.extractions:
            for line in extraction.lines:
                yield extraction, line

    def units(self) -> Iterator[CodeItem]:
        """Codes that identify one battery unit."""
        return iter(self._units)

    @functools.cached_property
    def _units(self) -> tuple[CodeItem, ...]:
        # Most rules walk the units: decide once which codes are units.
        return tuple(item for item in self.items if item.is_unit)

    @functools.cached_property
    def _by_line(self) -> dict[int, list[CodeItem]]:
        # Lines are compared by identity: two printed lines can hold equal values.
        index: dict[int, list[CodeItem]] = {}
        for item in self.items:
            if item.line is not None:
                index.setdefault(id(item.line), []).append(item)
        return index

    def items_of(self, line: ManifestLine) -> Sequence[CodeItem]:
        """The codes printed on one manifest line."""
        return self._by_line.get(id(line), [])

    # What several rules derive from every line or unit is built once per shipment, in one
    # pass, here: a 20,000-line shipment runs every rule over every line.

    @functools.cached_property
    def _records_by_line(self) -> dict[int, tuple[RegistrationRecord, ...]]:
        index: dict[int, list[RegistrationRecord]] = {}
        for item in self.items:
            if item.line is not None and item.record is not None:
                index.setdefault(id(item.line), []).append(item.record)
        return {line: tuple(records) for line, records in index.items()}

    def records_of(self, line: ManifestLine) -> Sequence[RegistrationRecord]:
        """The registration records found for the codes on one line, in their order."""
        return self._records_by_line.get(id(line), ())

    @functools.cached_property
    def _units_by_line(self) -> dict[int, frozenset[str]]:
        index: dict[int, set[str]] = {}
        for item in self._units:
            if item.line is not None and item.unit is not None:
                index.setdefault(id(item.line), set()).add(item.unit)
        return {line: frozenset(units) for line, units in index.items()}

    def units_of(self, line: ManifestLine) -> frozenset[str]:
        """The units (registration records, else keys) listed on one line."""
        return self._units_by_line.get(id(line), frozenset())

    @functools.cached_property
    def units_by_unit(self) -> Mapping[str, Sequence[CodeItem]]:
        """unit -> every code naming it, in shipment order (a unit listed twice has two)."""
        index: dict[str, list[CodeItem]] = {}
        for item in self._units:
            if item.unit is not None:
                index.setdefault(item.unit, []).append(item)
        return index

    @functools.cached_property
    def _lines_by_unit(self) -> dict[str, list[ManifestLine]]:
        # unit -> the lines listing it, over every document
        index: dict[str, list[ManifestLine]] = {}
        for item in self._units:
            if item.line is not None and item.unit is not None:
                lines = index.setdefault(item.unit, [])
                if not any(line is item.line for line in lines):
                    lines.append(item.line)
        return index

    def line_states(self, line: ManifestLine, name: str) -> bool:
        """True when the line gives field `name`, or the shipment does for its units.

        An invoice and a packing list list the same batteries, and often only the packing
        list gives the UN number and the weights: a line is covered when each of its units
        is listed on a line (of any document) that gives the field. A line without unit
        codes has only its own value.
        """
        if _given(getattr(line, name, None)):
            return True
        units = self.units_of(line)
        if not units:
            return False
        index = self._lines_by_unit
        return all(
            any(other is not line and _given(getattr(other, name, None)) for other in index[u])
            for u in units
        )

    def field_ref(self, line: ManifestLine, name: str) -> SourceRef:
        """Where a line's field was read (its cell), with the printed line number."""
        known: dict[tuple[int, str], SourceRef] = self.__dict__.setdefault("_field_refs", {})
        ref = known.get((id(line), name))
        if ref is None:
            ref = line.field_sources.get(name, line.source)
            if ref.line is None and line.line_no:
                ref = dataclasses.replace(ref, line=line.line_no)
            known[(id(line), name)] = ref
        return ref

    def header(self, name: str) -> str | None:
        """The first non-empty header field `name` over all documents."""
        for extraction in self.extractions:
            value = extraction.header.get(name)
            if value and value.strip():
                return value.strip()
        return None

    def stated(self, fact: str) -> str | None:
        """A title-block fact (e.g. "dg_packaging_cert") under any of its header keys.

        Header keys first, then the same keys among the lines' extra columns: a packing list
        may give an appraisal or MSDS number per line instead of once above the table.
        """
        names = FACT_KEYS.get(fact, (fact,))
        for name in names:
            value = self.header(name)
            if value:
                return value
        if not self._extra_names.intersection(names):
            return None  # no line has such a column: skip the walk over every line
        for _, line in self.lines():
            for name in names:
                value = line.extra.get(name)
                if value and value.strip():
                    return value.strip()
        return None

    @functools.cached_property
    def _extra_names(self) -> frozenset[str]:
        names: set[str] = set()
        for _, line in self.lines():
            if line.extra:
                names.update(line.extra)
        return frozenset(names)

    def memo(self, name: str, build: Callable[[], T]) -> T:
        """A value several rules derive from the context, built once (e.g. line groups)."""
        cache: dict[str, object] = self.__dict__.setdefault("_memo", {})
        if name not in cache:
            cache[name] = build()
        return cast(T, cache[name])

    def destination(self, line: ManifestLine | None = None) -> str | None:
        """The destination country: the line's own, else the documents', else the user's."""
        if line is not None and line.destination:
            return line.destination.upper()
        return self._shipment_destination

    @functools.cached_property
    def _shipment_destination(self) -> str | None:
        for extraction in self.extractions:
            # "DE", "Germany (DE)", "德国", "Denmark / 丹麦": the first one that names a country
            code = normalize_country(extraction.header.get("destination"))
            if code is not None:
                return code
        return self.facts.destination.upper() if self.facts.destination else None

    def transport_mode(self) -> str | None:
        """The transport mode stated by the user, else by the documents."""
        mode = self.facts.transport_mode or self.header("transport_mode")
        return mode.strip().lower() if mode else None


def _given(value: object) -> bool:
    return value is not None and (not isinstance(value, str) or bool(value.strip()))
