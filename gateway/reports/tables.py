"""The report as CSV and as an XLSX workbook: one row per finding and place.

Every text cell is neutralised against formula injection (`model.neutralize`) and XLSX cells
are written as strings, so a code or a model name beginning with "=" stays text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from gateway.domain import Finding, Report, SourceRef
from gateway.reports import model
from gateway.reports.messages import (
    COUNT_KEYS,
    check_lang,
    fact_text,
    platform_source_text,
    t,
)

FINDING_COLUMNS: tuple[str, ...] = (
    "severity",
    "code",
    "rule",
    "message",
    "fix",
    "document",
    "sheet",
    "cell",
    "page",
    "row",
    "line",
    "where",
    "battery_code",
    "source",
)
UNIT_COLUMNS: tuple[str, ...] = ("key", "lookup", "reason", "registration", "where", "line")
FILLS = {
    "block": PatternFill("solid", fgColor="F4C7C3"),
    "warn": PatternFill("solid", fgColor="FCE8B2"),
    "info": PatternFill("solid", fgColor="E3E8EE"),
}


_SEVERITY_RANK = {"block": 0, "warn": 1, "info": 2}


def _column_number(cell: str | None) -> int:
    letters = "".join(ch for ch in (cell or "") if ch.isalpha()).upper()
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number


def _number(text: str) -> object:
    """A printed line number as a number when it is one ("14"), else the text ("3a")."""
    return int(text) if text.isdigit() and len(text) < 16 else text


def ordered_places(report: Report) -> list[tuple[Finding, SourceRef | None]]:
    """(finding, place) pairs by severity (blocking first), then by place in the documents:
    document order, page, sheet, row, column; places of the whole shipment first."""
    position = {d.id: i for i, d in enumerate(report.documents)}
    pairs = [(f, ref) for f in report.findings for ref in (f.refs or (None,))]

    def key(pair: tuple[Finding, SourceRef | None]) -> tuple[object, ...]:
        f, ref = pair
        rank = _SEVERITY_RANK.get(str(f.severity), 3)
        if ref is None or ref.document_id not in position:
            return (rank, 0, 0, 0, "", 0, 0, f.code)
        return (
            rank,
            1,
            position[ref.document_id],
            ref.page or 0,
            ref.sheet or "",
            ref.row or 0,
            _column_number(ref.cell),
            f.code,
        )

    return sorted(pairs, key=key)  # stable: equal places keep the findings' own order


def finding_rows(report: Report, lang: str) -> Iterator[tuple[str, list[object]]]:
    """(severity, cells) of the findings table, one per finding and place, in `ordered_places`
    order; texts already neutralised, page, row and printed line numbers as numbers."""
    documents = model.documents_by_id(report)
    for f, ref in ordered_places(report):
        document = documents.get(ref.document_id) if ref is not None else None
        texts = [
            t(f"sev_{f.severity}", lang),
            f.code,
            f"{f.rule_id} v{f.rule_version}",
            model.message(f, lang),
            model.fix(f, lang),
            document.filename if document else "",
            (ref.sheet or "") if ref else "",
            (ref.cell or "") if ref else "",
        ]
        row: list[object] = [model.neutralize(cell) for cell in texts]
        row += [
            ref.page if ref and ref.page is not None else "",
            ref.row if ref and ref.row is not None else "",
            _number(model.neutralize(ref.line)) if ref and ref.line else "",
        ]
        row += [
            model.neutralize(cell)
            for cell in (
                model.describe_ref(ref, documents, lang) if ref else t("whole_shipment", lang),
                model.visible(f.code_raw) if f.code_raw else "",
                f.source,
            )
        ]
        yield str(f.severity), row


def render_csv(report: Report, lang: str = "en") -> str:
    """The findings as CSV (UTF-8 text; `reports.formats` adds the BOM Excel needs to the file)."""
    lang = check_lang(lang)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([t(c, lang) for c in FINDING_COLUMNS])
    writer.writerows(row for _severity, row in finding_rows(report, lang))
    return out.getvalue()


def _put(ws: Worksheet, row: int, col: int, value: object) -> None:
    cell = ws.cell(row=row, column=col)
    if isinstance(value, int | float) and not isinstance(value, bool):
        cell.value = value
    elif isinstance(value, dt.datetime):  # Excel has no time zones: UTC, and it says so
        cell.value = value.astimezone(dt.UTC).replace(tzinfo=None)
        cell.number_format = 'yyyy-mm-dd hh:mm:ss "UTC"'
    else:
        cell.value = model.neutralize("" if value is None else str(value))
        cell.data_type = "s"  # never a formula, whatever the text looks like


def render_xlsx(report: Report, lang: str = "en") -> bytes:
    """The report as a workbook: summary, findings (coloured by severity) and units."""
    lang = check_lang(lang)
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = t("summary_sheet", lang)
    facts: list[tuple[str, object]] = [
        (t("shipment", lang), report.shipment_id),
        (t("verdict", lang), t(f"verdict_{report.verdict}", lang)),
        (t("generated_at", lang), report.generated_at),
        (t("ruleset", lang), report.ruleset),
        (
            t("platform", lang),
            f"{platform_source_text(report.platform_source, lang)} ({report.platform_contract})",
        ),
    ]
    facts += [
        (t(k, lang), fact_text(k, v, lang))
        for k, v in report.shipment.items()
        if k in _SHIPMENT_KEYS
    ]
    facts += [(t(f"count_{k}", lang), report.counts[k]) for k in COUNT_KEYS if k in report.counts]
    for r, (label, value) in enumerate(facts, start=1):
        _put(summary, r, 1, label)
        _put(summary, r, 2, value)
        summary.cell(row=r, column=1).font = Font(bold=True)
    summary.column_dimensions["A"].width = 24
    summary.column_dimensions["B"].width = 60

    ws = wb.create_sheet(t("findings_sheet", lang))
    for c, name in enumerate(FINDING_COLUMNS, start=1):
        _put(ws, 1, c, t(name, lang))
        ws.cell(row=1, column=c).font = Font(bold=True)
    last = 1
    for last, (severity, row) in enumerate(finding_rows(report, lang), start=2):
        for c, value in enumerate(row, start=1):
            _put(ws, last, c, value)
        ws.cell(row=last, column=1).fill = FILLS[severity]
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(FINDING_COLUMNS))}{last}"
    for letter, width in (("D", 60), ("E", 45), ("L", 40), ("M", 40)):
        ws.column_dimensions[letter].width = width

    units = wb.create_sheet(t("units_sheet", lang))
    for c, name in enumerate(UNIT_COLUMNS, start=1):
        _put(units, 1, c, t(name, lang))
    for r, unit in enumerate(report.units, start=2):
        for c, name in enumerate(UNIT_COLUMNS, start=1):
            value = unit.get(name) or ""
            _put(units, r, c, _number(str(value)) if name == "line" else value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


_SHIPMENT_KEYS = ("reference", "destination", "transport_mode", "declared_on")
