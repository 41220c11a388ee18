"""The report as CSV and as an XLSX workbook: one row per finding and place.

Every text cell is neutralised against formula injection (`model.neutralize`) and XLSX cells
are written as strings, so a code or a model name beginning with "=" stays text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

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


def _value(value: object) -> object:
    """A cell's value as the workbook holds it: numbers as numbers, datetimes as UTC, text
    neutralised (and never empty: an empty text is no cell)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, dt.datetime):  # Excel has no time zones: UTC, and it says so
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    text = model.neutralize("" if value is None else str(value))
    return text or None


def _cell(ws: WriteOnlyWorksheet, value: object, **style: Any) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=_value(value))
    if isinstance(value, dt.datetime):
        cell.number_format = 'yyyy-mm-dd hh:mm:ss "UTC"'
    elif cell.value is not None and not isinstance(cell.value, int | float):
        cell.data_type = "s"  # never a formula, whatever the text looks like
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def render_xlsx(report: Report, lang: str = "en") -> bytes:
    """The report as a workbook: summary, findings (coloured by severity) and units.

    Written row by row (openpyxl's write-only mode): a report of 20,000 units is 120,000
    cells, and building them as a worksheet in memory first took seconds.
    """
    lang = check_lang(lang)
    wb = Workbook(write_only=True)
    summary = wb.create_sheet(t("summary_sheet", lang))
    summary.column_dimensions["A"].width = 24
    summary.column_dimensions["B"].width = 60
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
    bold = Font(bold=True)
    for label, value in facts:
        summary.append([_cell(summary, label, font=bold), _cell(summary, value)])

    ws = wb.create_sheet(t("findings_sheet", lang))
    ws.freeze_panes = "A2"
    for letter, width in (("D", 60), ("E", 45), ("L", 40), ("M", 40)):
        ws.column_dimensions[letter].width = width
    ws.append([_cell(ws, t(name, lang), font=bold) for name in FINDING_COLUMNS])
    last = 1
    for severity, row in finding_rows(report, lang):
        first, *rest = row
        ws.append([_cell(ws, first, fill=FILLS[severity]), *(_cell(ws, v) for v in rest)])
        last += 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(FINDING_COLUMNS))}{last}"

    units = wb.create_sheet(t("units_sheet", lang))
    units.append([_cell(units, t(name, lang)) for name in UNIT_COLUMNS])
    out = io.BytesIO()
    wb.save(out)
    return _with_unit_rows(out.getvalue(), len(wb.worksheets), report)


_UNITS_SHEET = "xl/worksheets/sheet{}.xml"
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _unit_rows_xml(report: Report) -> str:
    """The units sheet's rows after its header, as worksheet XML: 20,000 units are 120,000
    cells, and openpyxl's cell-by-cell writer spent a second and more on them. Text is
    neutralised as every other cell (so none begins with "="), written inline; the printed
    line number is a number when it is one."""
    letters = [get_column_letter(c) for c in range(1, len(UNIT_COLUMNS) + 1)]
    neutralize = model.neutralize
    parts: list[str] = []
    for r, unit in enumerate(report.units, start=2):
        parts.append(f'<row r="{r}">')
        for letter, name in zip(letters, UNIT_COLUMNS, strict=True):
            value: object = unit.get(name) or ""
            if name == "line":
                value = _number(str(value))
            if isinstance(value, int | float) and not isinstance(value, bool):
                parts.append(f'<c r="{letter}{r}"><v>{value!r}</v></c>')
                continue
            text = neutralize(str(value))
            if not text:
                continue
            text = _ILLEGAL_XML.sub(lambda m: chr(0x2400 + ord(m.group())), text)
            if _ILLEGAL_XML.search(text):  # U+FFFE, U+FFFF: no picture for them
                text = _ILLEGAL_XML.sub("\ufffd", text)
            space = ' xml:space="preserve"' if text != text.strip() else ""
            parts.append(
                f'<c r="{letter}{r}" t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'
            )
        parts.append("</row>")
    return "".join(parts)


def _with_unit_rows(workbook: bytes, sheets: int, report: Report) -> bytes:
    """`workbook` (openpyxl's, units sheet last, header row only) with the unit rows added."""
    name = _UNITS_SHEET.format(sheets)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(workbook)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename == name:
                text = data.decode("utf-8")
                if text.count("</sheetData>") != 1:
                    msg = f"Unexpected units sheet from openpyxl: {text[:200]!r}"
                    raise RuntimeError(msg)
                data = text.replace(
                    "</sheetData>", _unit_rows_xml(report) + "</sheetData>"
                ).encode()
            target.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


_SHIPMENT_KEYS = ("reference", "destination", "transport_mode", "declared_on")
