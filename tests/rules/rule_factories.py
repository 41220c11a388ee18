"""Builders of rule contexts from records, for table tests of single rules."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence

from gateway.domain import (
    CodeOccurrence,
    DecodedCode,
    Document,
    Extraction,
    ExtractionMethod,
    Finding,
    GbCode,
    Lookup,
    LookupStatus,
    ManifestLine,
    RegistrationRecord,
    RegistrationStatus,
    Scheme,
    SourceRef,
)
from gateway.gs1 import decode
from gateway.rules import ALL_RULES, load_ruleset, run_rules
from gateway.rules.context import CodeItem, RejectedDocument, RuleContext, ShipmentFacts

TODAY = dt.date(2026, 11, 20)
DOC = Document(id="doc-1", filename="pl.xlsx", media_type="application/xlsx", sha256="0" * 64)


def gtin(body13: str = "0690123456789") -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body13)))
    return body13 + str((10 - total % 10) % 10)


GTIN = gtin()


def sgtin(serial: str, g: str = GTIN) -> str:
    return f"(01){g}(21){serial}"


def record(serial: str = "SN1", **changes: object) -> RegistrationRecord:
    base = RegistrationRecord(
        record_id=f"R-{serial}",
        status=RegistrationStatus.REGISTERED,
        gtin=GTIN,
        serial=serial,
        category="nev_traction",
        level="pack",
        model="EVP-75",
        chemistry="NCM",
        rated_energy_kwh=75.0,
        mass_kg=450.0,
        specific_energy_wh_per_kg=170.0,
        lot="L1",
        destination_country="DE",
        un38_3_summary_ref="UN383",
        passport_url="https://id.example/x",
        unique_identifier="(01)x(21)y",
        doc_url="https://doc.example/x",
        ce_marked=True,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def line(row: int = 8, **fields: object) -> ManifestLine:
    values: dict[str, object] = {
        "source": SourceRef(document_id="doc-1", sheet="PL", row=row, cell=f"A{row}"),
        "line_no": str(row - 7),
        "description": "Battery pack",
        "model": "EVP-75",
        "quantity": 1.0,
        "lot": "L1",
        "hs_code": "8507600020",
        "un_number": "UN3480",
        "net_kg": 450.0,
        "gross_kg": 480.0,
        "destination": "DE",
    }
    values.update(fields)
    names = ("model", "quantity", "lot", "hs_code", "un_number", "net_kg", "gross_kg")
    letters = dict(zip(names, "CDEFGHI", strict=True))
    values.setdefault(
        "field_sources",
        {
            n: SourceRef(document_id="doc-1", sheet="PL", row=row, cell=f"{letters[n]}{row}")
            for n in names
        },
    )
    return ManifestLine(**values)  # type: ignore[arg-type]


def item(
    raw: str,
    *,
    status: LookupStatus | None = LookupStatus.FOUND,
    rec: RegistrationRecord | None = None,
    on: ManifestLine | None = None,
    label: str | None = None,
    confidence: float | None = None,
    document: Document = DOC,
) -> CodeItem:
    decoded = decode(raw)
    source = SourceRef(
        document_id=document.id, sheet="PL", row=on.source.row if on else None, cell="J8"
    )
    occurrence = CodeOccurrence(
        raw=raw, source=source, method=ExtractionMethod.CELL, confidence=confidence
    )
    lookup = None
    if decoded.key and status is not None:
        if status is LookupStatus.FOUND:
            rec = rec or record(decoded.serial or "X")
            lookup = Lookup(decoded.key, status, record=rec)
        else:
            lookup = Lookup(decoded.key, status, reason="timeout")
    return CodeItem(decoded, occurrence, document, on, lookup, label)


def context(
    items: Sequence[CodeItem] = (),
    *,
    lines: Sequence[ManifestLine] | None = None,
    header: Mapping[str, str] | None = None,
    today: dt.date = TODAY,
    destination: str | None = "DE",
    mode: str | None = "sea",
    history: Mapping[str, str] | None = None,
    rejected: Sequence[RejectedDocument] = (),
    extractions: Sequence[Extraction] | None = None,
    platform_source: str = "registry",
) -> RuleContext:
    if lines is None:
        lines = list({id(i.line): i.line for i in items if i.line is not None}.values())
    if extractions is None:
        extractions = [
            Extraction(
                document=DOC,
                header=dict(header or {"shipper": "S", "consignee": "C"}),
                lines=tuple(lines),
            )
        ]
    return RuleContext(
        facts=ShipmentFacts(shipment_id="S1", destination=destination, transport_mode=mode),
        today=today,
        extractions=tuple(extractions),
        items=tuple(items),
        rejected=tuple(rejected),
        history=dict(history or {}),
        platform_source=platform_source,
    )


def run(
    rule_id: str, ctx: RuleContext, override: Mapping[str, object] | None = None
) -> list[Finding]:
    rule = next(r for r in ALL_RULES if r.id == rule_id)
    outcome = run_rules(ctx, load_ruleset("default", override), [rule])
    assert outcome.crashed == ()
    return list(outcome.findings)


def codes(findings: Sequence[Finding]) -> list[str]:
    return [f.code for f in findings]


GB_RAW = "ABCPE0110000011B10000001"


def gb_item(
    *,
    produced: dt.date | None = dt.date(2026, 1, 1),
    rec: RegistrationRecord | None = None,
    scheme: Scheme = Scheme.GB34014,
    product_type: str = "P",
    label: str | None = None,
    status: LookupStatus | None = LookupStatus.FOUND,
    on: ManifestLine | None = None,
) -> CodeItem:
    """A GB/T code item built by hand: the code engine leaves uncertain dates undecoded."""
    gb = GbCode(
        scheme=scheme,
        code=GB_RAW,
        manufacturer="ABC",
        product_type=product_type,
        product_level="pack",
        chemistry="E",
        chemistry_name="NCM",
        spec="01",
        traceability="1000001",
        date_code="1B1",
        production_date=produced,
        serial="0000001",
    )
    decoded = DecodedCode(
        raw=GB_RAW, scheme=scheme, valid=True, ais={}, key=GB_RAW, key_kind=str(scheme), gb=gb
    )
    occurrence = CodeOccurrence(
        raw=GB_RAW,
        source=SourceRef(document_id="doc-1", sheet="PL", cell="K8"),
        method=ExtractionMethod.CELL,
    )
    lookup = None
    if status is LookupStatus.FOUND:
        lookup = Lookup(GB_RAW, status, record=rec or record("GB"))
    elif status is not None:
        lookup = Lookup(GB_RAW, status)
    return CodeItem(decoded, occurrence, DOC, on, lookup, label)
