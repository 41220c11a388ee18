"""Records passed between the gateway's steps.

`Document -> Extraction (ManifestLine, CodeOccurrence) -> DecodedCode -> Lookup -> Finding
-> Report`. Every record is a frozen dataclass: a step returns new records and never mutates
the ones it was given. Nothing here imports Flask, SQLAlchemy or any parser library.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Scheme(StrEnum):
    """Which identification scheme a code belongs to."""

    GS1 = "gs1"  # GS1 element string (bracketed, raw, or scanner data)
    DIGITAL_LINK = "gs1-digital-link"  # GS1 Digital Link URI
    GB34014 = "gb34014"  # China GB/T 34014 traction-battery code, 24 characters
    GB45565 = "gb45565"  # China GB/T 45565 Li-ion (non-automotive, ESS) code
    UNKNOWN = "unknown"


# Key kinds (`DecodedCode.key_kind`) that can name one battery unit: a GTIN with its serial, a
# GIAI, a GB/T 34014 or GB/T 45565 code, and an SSCC. An SSCC names a logistic unit (pallet,
# carton); it names one battery only when the registry holds it (a containerised system keyed
# on its SSCC), so the platform client looks SSCCs up and the rules count one as a unit only
# when it was found. A bare GTIN (a model), a GTIN with a lot and a GRAI never name a unit.
UNIT_KEY_KINDS = frozenset({"sgtin", "sscc", "giai", "gb34014", "gb45565"})

# how a shipment travels, as the API, the web form and `gateway check` take it
TRANSPORT_MODES = ("sea", "air", "road", "rail", "multimodal", "post")


class ExtractionMethod(StrEnum):
    """How a code was found in a document."""

    CELL = "cell"  # spreadsheet or CSV cell text
    PDF_TEXT = "pdf_text"  # text layer of a PDF page
    OCR = "ocr"  # printed text read by OCR from a scanned page or photo
    BARCODE_IMAGE = "barcode_image"  # barcode in a photo or image file
    BARCODE_PDF = "barcode_pdf"  # barcode on a rendered PDF page
    INPUT = "input"  # typed by a user or posted through the API


class Severity(StrEnum):
    """How much a finding matters for export."""

    BLOCK = "block"  # do not submit until fixed
    WARN = "warn"  # a person must decide
    INFO = "info"  # recorded only


class Verdict(StrEnum):
    """The outcome of a shipment check."""

    CLEAR = "clear"  # every in-scope unit positively verified and nothing blocks
    HOLD = "hold"  # warnings, or codes that could not be verified
    BLOCK = "block"  # at least one blocking finding


@dataclass(frozen=True, slots=True)
class Document:
    """One uploaded file. The filename is display text only, never a path."""

    id: str  # opaque id, unique within the shipment
    filename: str  # as uploaded, for display
    media_type: str  # sniffed from the bytes, e.g. "application/pdf"
    sha256: str  # hex digest of the bytes
    size: int = 0  # bytes


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a thing was found in a document."""

    document_id: str
    page: int | None = None  # 1-based PDF page or image frame
    sheet: str | None = None  # worksheet name
    row: int | None = None  # 1-based spreadsheet row or CSV record number
    cell: str | None = None  # A1-style cell reference
    bbox: tuple[float, float, float, float] | None = None  # x0, y0, x1, y1 in page points/px
    line: str | None = None  # the line number as printed in the document (序号 / No.)

    def describe(self) -> str:
        """A short human-readable location, e.g. "sheet 'CNTR1' cell C12" or "page 3"."""
        return " ".join(self.place_parts()) or "document"

    def place_parts(self, lang: str = "en") -> list[str]:
        """The location's parts, in English or (`lang="zh"`) Chinese: sheet, cell (or row),
        page, line. The one place a location is turned into words."""
        sheet, cell, row, page, line = _PLACE_WORDS["zh" if lang == "zh" else "en"]
        parts: list[str] = []
        if self.sheet is not None:
            parts.append(sheet.format(self.sheet))
        if self.cell is not None:
            parts.append(cell.format(self.cell))
        elif self.row is not None:
            parts.append(row.format(self.row))
        if self.page is not None:
            parts.append(page.format(self.page))
        if self.line is not None:
            parts.append(line.format(self.line))
        return parts


# the words of a location's parts: sheet, cell, row, page, line (as printed: 序号)
_PLACE_WORDS = {
    "en": ("sheet {!r}", "cell {}", "row {}", "page {}", "line {}"),
    "zh": ("工作表「{}」", "单元格 {}", "第 {} 行", "第 {} 页", "序号 {}"),
}


@dataclass(frozen=True, slots=True)
class CodeOccurrence:
    """One code as found in a document, before any interpretation."""

    raw: str  # exactly as extracted; group separator kept as "\x1d"
    source: SourceRef
    method: ExtractionMethod
    symbology: str | None = None  # e.g. "gs1-datamatrix", when a barcode reader reports one
    quad: tuple[tuple[float, float], ...] | None = None  # barcode corners in image pixels
    confidence: float | None = None  # OCR confidence, when read by OCR


@dataclass(frozen=True, slots=True)
class Problem:
    """A problem met while reading a code: a stable code, a message and a character span."""

    code: str  # SCREAMING_SNAKE, stable, e.g. "INCORRECT_CHECK_DIGIT"
    message: str  # for humans
    span: tuple[int, int] = (0, 0)  # [start, end) in the raw input
    severity: str = "error"  # "error" makes the code invalid; "warning" is a repair or remark
    params: tuple[tuple[str, str], ...] = ()  # e.g. (("ai", "01"), ("value", "...")), to word it


@dataclass(frozen=True, slots=True)
class GbCode:
    """The segments of a GB/T 34014 or GB/T 45565 battery code."""

    scheme: Scheme
    code: str  # normalized: upper case, separators removed
    manufacturer: str
    product_type: str  # P/M/C for GB/T 34014; the type letter for GB/T 45565
    product_level: str | None  # "pack", "module", "cell", "cluster", "system"
    chemistry: str | None  # the letter as printed
    chemistry_name: str | None  # e.g. "LFP"; None when the letter is not in a known table
    spec: str | None
    traceability: str | None
    date_code: str | None
    production_date: dt.date | None  # None when the date cannot be decoded with certainty
    serial: str | None
    uncertain: tuple[str, ...] = ()  # fields decoded from unconfirmed tables


@dataclass(frozen=True, slots=True)
class DecodedCode:
    """A code plus its interpretation. Decoding never raises: problems are data."""

    raw: str  # the input as given
    scheme: Scheme
    valid: bool  # no problem of severity "error"
    ais: Mapping[str, str]  # AI -> value for GS1 data (Digital Link values percent-decoded)
    problems: tuple[Problem, ...] = ()
    key: str | None = None  # normalized unit key, e.g. "01:06901234567892/21:SN1" or GB code
    key_kind: str | None = None  # "sgtin", "sscc", "giai", "gtin", "lot", "gb34014", ...
    gb: GbCode | None = None  # segments of a GB/T code
    symbology_id: str | None = None  # AIM symbology identifier, e.g. "]d2"
    repaired: bool = False  # a capture artefact was repaired (reported in problems)
    occurrence: CodeOccurrence | None = None

    @property
    def gtin(self) -> str | None:
        """The GTIN (AI 01), 14 digits, if present."""
        return self.ais.get("01")

    @property
    def serial(self) -> str | None:
        """The serial number (AI 21), if present."""
        return self.ais.get("21")

    @property
    def sscc(self) -> str | None:
        """The SSCC (AI 00), if present."""
        return self.ais.get("00")


@dataclass(frozen=True, slots=True)
class ManifestLine:
    """One line of a manifest or packing list, with the fields read from it."""

    source: SourceRef
    line_no: str | None  # as printed (序号 / No. / Item)
    description: str | None = None
    model: str | None = None
    quantity: float | None = None
    unit: str | None = None
    lot: str | None = None
    hs_code: str | None = None  # digits only
    un_number: str | None = None  # "UN3480"
    net_kg: float | None = None
    gross_kg: float | None = None
    carton: str | None = None
    pallet: str | None = None
    container: str | None = None
    destination: str | None = None  # ISO 3166-1 alpha-2
    extra: Mapping[str, str] = field(default_factory=dict)  # other columns, by mapped name
    codes: tuple[CodeOccurrence, ...] = ()
    field_sources: Mapping[str, SourceRef] = field(default_factory=dict)  # field -> cell


@dataclass(frozen=True, slots=True)
class ExtractionProblem:
    """Something that could not be read, or was read with doubt."""

    kind: str  # stable, snake_case, e.g. "identifier_destroyed_in_document"
    message: str
    source: SourceRef | None = None
    line_no: str | None = None
    severity: Severity = Severity.BLOCK


@dataclass(frozen=True, slots=True)
class Extraction:
    """Everything read from one document."""

    document: Document
    header: Mapping[str, str] = field(default_factory=dict)  # shipper, consignee, ports, ...
    lines: tuple[ManifestLine, ...] = ()
    loose_codes: tuple[CodeOccurrence, ...] = ()  # codes not on a manifest line (labels)
    problems: tuple[ExtractionProblem, ...] = ()
    pages: int | None = None
    method: str | None = None  # "xlsx", "xls", "csv", "pdf_text", "pdf_scan", "image"


class LookupStatus(StrEnum):
    """The answer for one unit key."""

    FOUND = "found"  # a well-formed positive answer for exactly this key
    NOT_FOUND = "not_found"  # a well-formed negative answer
    UNVERIFIED = "unverified"  # no usable answer: outage, rate limit, malformed answer, ...


class RegistrationStatus(StrEnum):
    """Registration status values of the assumed platform contract."""

    REGISTERED = "registered"
    PENDING_REVIEW = "pending_review"
    NEEDS_CORRECTION = "needs_correction"
    REJECTED = "rejected"
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    EXPORTED = "exported"


@dataclass(frozen=True, slots=True)
class RegistrationRecord:
    """One unit's registration, as the platform (or the local registry) holds it.

    Fields follow the assumed platform contract (see README, "Platform contract").
    """

    record_id: str
    status: RegistrationStatus
    source: str = "platform"  # "platform", "simulator", "registry", "cache"
    spec_version: str = "v1"
    # identifiers
    gs1_element_string: str | None = None
    gtin: str | None = None
    serial: str | None = None
    sscc: str | None = None
    giai: str | None = None  # AI 8004, when the unit is identified as an individual asset
    digital_link: str | None = None
    gb_code: str | None = None
    gb_code_scheme: str | None = None  # "GB_T_34014", "GB_T_45565"
    parent_code: str | None = None
    # product
    category: str | None = None  # nev_traction, ci_ess, residential_ess, lmt, portable, other
    level: str | None = None  # cell, module, pack, cluster, system
    design_id: str | None = None
    model: str | None = None
    chemistry: str | None = None
    rated_capacity_ah: float | None = None
    rated_energy_kwh: float | None = None
    nominal_voltage_v: float | None = None
    mass_kg: float | None = None
    specific_energy_wh_per_kg: float | None = None
    hs_code_cn: str | None = None
    un_number: str | None = None
    un38_3_summary_ref: str | None = None
    # manufacturing
    manufacturer_name: str | None = None
    manufacturer_uscc: str | None = None
    manufacturing_date: dt.date | None = None
    lot: str | None = None
    # export
    exporter_uscc: str | None = None
    destination_country: str | None = None  # ISO 3166-1 alpha-2
    declared_in: tuple[str, ...] = ()  # declaration numbers that already used this code
    # EU
    eu_category: str | None = None
    passport_url: str | None = None
    unique_identifier: str | None = None
    doc_url: str | None = None
    ce_marked: bool | None = None
    carbon_footprint_kgco2e_per_kwh: float | None = None
    # status detail
    reason_code: str | None = None
    missing_fields: tuple[str, ...] = ()
    grace_until: dt.date | None = None
    review_mode: str | None = None
    updated_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Lookup:
    """The platform's answer for one unit key. Nothing turns an unanswered key into FOUND."""

    key: str
    status: LookupStatus
    record: RegistrationRecord | None = None  # set only when FOUND
    reason: str | None = None  # why UNVERIFIED or NOT_FOUND, e.g. "timeout", "circuit_open"
    source: str = "platform"  # "platform", "simulator", "registry", "cache"


@dataclass(frozen=True, slots=True)
class Finding:
    """One result of one rule."""

    rule_id: str  # "family.name", e.g. "registration.not_found"
    code: str  # SCREAMING_SNAKE, stable: clients filter on it
    severity: Severity
    message_en: str
    message_zh: str
    fix_en: str = ""
    fix_zh: str = ""
    source: str = ""  # what the rule rests on: "GS1", "GB", "EUBR", "DG", "CN-CUS", "SEED", ...
    refs: tuple[SourceRef, ...] = ()
    code_raw: str | None = None  # the code concerned, as found
    span: tuple[int, int] | None = None  # bad characters in code_raw, for highlighting
    evidence: Mapping[str, object] = field(default_factory=dict)
    rule_version: int = 1


@dataclass(frozen=True, slots=True)
class Report:
    """The discrepancy report of one shipment."""

    shipment_id: str
    verdict: Verdict
    generated_at: dt.datetime
    ruleset: str  # ruleset name and version, e.g. "default@2026.11.1"
    findings: tuple[Finding, ...]
    counts: Mapping[str, int]  # codes, verified, unverified, not_found, block, warn, info, ...
    documents: tuple[Document, ...] = ()
    platform_contract: str = "assumed-v1"
    platform_source: str = "registry"  # "platform", "simulator", "registry"
    crashed_rules: tuple[str, ...] = ()
    timings: Mapping[str, float] = field(default_factory=dict)
    shipment: Mapping[str, str] = field(default_factory=dict)  # reference, destination, mode
    units: tuple[Mapping[str, object], ...] = ()  # one row per unit code: key, status, where
    version: int = 1  # 1 for the first upload, one more per re-check with corrected documents
    # against the previous version: fixed, new, still open (gateway.reports.changes)
    changes: Mapping[str, object] | None = None
