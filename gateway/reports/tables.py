"""The report as CSV and as an XLSX workbook: one row per finding and place.

Every text cell is neutralised against formula injection (`model.neutralize`) and XLSX cells
are written as strings, so a code or a model name beginning with "=" stays text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from gateway.domain import Report
from gateway.reports import model
from gateway.reports.messages import COUNT_KEYS, check_lang, t

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


def finding_rows(report: Report, lang: str) -> Iterator[list[str]]:
    """Rows of the findings table, one per finding and place, texts already neutralised."""
    documents = model.documents_by_id(report)
    for f in report.findings:
        for ref in f.refs or (None,):
            document = documents.get(ref.document_id) if ref is not None else None
            row = [
                t(f"sev_{f.severity}", lang),
                f.code,
                f"{f.rule_id} v{f.rule_version}",
                model.message(f, lang),
                model.fix(f, lang),
                document.filename if document else "",
                (ref.sheet or "") if ref else "",
                (ref.cell or "") if ref else "",
                str(ref.page) if ref and ref.page is not None else "",
                str(ref.row) if ref and ref.row is not None else "",
                (ref.line or "") if ref else "",
                model.describe_ref(ref, documents, lang) if ref else t("whole_shipment", lang),
                model.visible(f.code_raw) if f.code_raw else "",
                f.source,
            ]
            yield [model.neutralize(cell) for cell in row]


def render_csv(report: Report, lang: str = "en") -> str:
    """The findings as CSV (UTF-8 text; write it with a BOM for Excel if needed)."""
    lang = check_lang(lang)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([t(c, lang) for c in FINDING_COLUMNS])
    writer.writerows(finding_rows(report, lang))
    return out.getvalue()


def _put(ws: Worksheet, row: int, col: int, value: object) -> None:
    cell = ws.cell(row=row, column=col)
    if isinstance(value, int | float) and not isinstance(value, bool):
        cell.value = value
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
        (t("generated_at", lang), report.generated_at.isoformat()),
        (t("ruleset", lang), report.ruleset),
        (t("platform", lang), f"{report.platform_source} ({report.platform_contract})"),
    ]
    facts += [(t(k, lang), v) for k, v in report.shipment.items() if k in _SHIPMENT_KEYS]
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
    severity_of = [str(f.severity) for f in report.findings for _ in (f.refs or (None,))]
    for r, (row, severity) in enumerate(
        zip(finding_rows(report, lang), severity_of, strict=True), start=2
    ):
        for c, value in enumerate(row, start=1):
            _put(ws, r, c, value)
        ws.cell(row=r, column=1).fill = FILLS[severity]
    ws.freeze_panes = "A2"
    for letter, width in (("D", 60), ("E", 45), ("L", 40), ("M", 40)):
        ws.column_dimensions[letter].width = width

    units = wb.create_sheet(t("units_sheet", lang))
    for c, name in enumerate(UNIT_COLUMNS, start=1):
        _put(units, 1, c, t(name, lang))
    for r, unit in enumerate(report.units, start=2):
        for c, name in enumerate(UNIT_COLUMNS, start=1):
            _put(units, r, c, unit.get(name) or "")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


_SHIPMENT_KEYS = ("reference", "destination", "transport_mode", "declared_on")
