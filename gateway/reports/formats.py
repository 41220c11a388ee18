"""The report formats: one registry of name, media type, file extension and renderer.

The API (`?format=`, content negotiation, downloads), the report email's attachments, the
emailed link, `gateway check --format` and the OpenAPI document all read this registry, so a
format added here is offered everywhere at once.

CSV is written with a UTF-8 byte order mark wherever it leaves as a file: Excel, which most
readers of the report open it with, otherwise reads UTF-8 as the local code page and garbles
the Chinese text. `render_csv` itself returns plain text without it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gateway.domain import Report

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_BOM = "\ufeff"

# (report, lang) -> the file's bytes
Renderer = Callable[[Report, str], bytes]


@dataclass(frozen=True, slots=True)
class ReportFormat:
    """One way to write a report as a file."""

    name: str  # the `format` word of the API and the CLI, e.g. "csv"
    media_type: str  # Content-Type, with the charset of a text format
    extension: str  # file name extension without the dot
    render: Renderer | None  # None: the format needs more than the report (see `annotate`)
    binary: bool  # not fit for a terminal

    @property
    def essence(self) -> str:
        """The media type without parameters ("text/csv"), for content negotiation."""
        return self.media_type.partition(";")[0]


# Each writer is imported when its format is asked for: the HTML one loads Jinja's templates,
# the spreadsheet ones openpyxl (and numpy through it), which `gateway check --format json`
# and a JSON API answer would otherwise pay at start-up for nothing.


def _json(report: Report, lang: str) -> bytes:
    from gateway.reports.json_report import render_json

    return render_json(report).encode("utf-8")


def _html(report: Report, lang: str) -> bytes:
    from gateway.reports.html_report import render_html

    return render_html(report, lang).encode("utf-8")


def _csv(report: Report, lang: str) -> bytes:
    from gateway.reports.tables import render_csv

    return (CSV_BOM + render_csv(report, lang)).encode("utf-8")


def _xlsx(report: Report, lang: str) -> bytes:
    from gateway.reports.tables import render_xlsx

    return render_xlsx(report, lang)


def _pdf(report: Report, lang: str) -> bytes:
    # imported when a PDF is asked for: WeasyPrint is slow to import
    from gateway.reports.pdf_report import render_pdf

    return render_pdf(report, lang)


_ALL = (
    ReportFormat("json", "application/json", "json", _json, binary=False),
    ReportFormat("html", "text/html; charset=utf-8", "html", _html, binary=False),
    ReportFormat("csv", "text/csv; charset=utf-8", "csv", _csv, binary=False),
    ReportFormat("xlsx", XLSX_TYPE, "xlsx", _xlsx, binary=True),
    ReportFormat("pdf", "application/pdf", "pdf", _pdf, binary=True),
    # the uploaded workbook with the findings' cells coloured and commented
    ReportFormat("annotated", XLSX_TYPE, "xlsx", None, binary=True),
)

FORMATS: Mapping[str, ReportFormat] = {f.name: f for f in _ALL}
NAMES: tuple[str, ...] = tuple(FORMATS)


def report_format(name: str) -> ReportFormat:
    """The format called `name`; ValueError naming the known ones otherwise."""
    found = FORMATS.get(name)
    if found is None:
        msg = f"Unknown report format {name!r}: expected one of {', '.join(NAMES)}."
        raise ValueError(msg)
    return found


def render(report: Report, name: str, lang: str = "en") -> bytes:
    """The report as the bytes of the file in format `name` ("annotated" excepted)."""
    fmt = report_format(name)
    if fmt.render is None:
        msg = f"Report format {name!r} needs the uploaded workbook: use `annotate`."
        raise ValueError(msg)
    return fmt.render(report, lang)


def annotate(report: Report, workbook: bytes, document_id: str, lang: str = "en") -> bytes:
    """The "annotated" format: the uploaded workbook with the findings' cells marked."""
    from gateway.reports.annotate import annotate_workbook

    return annotate_workbook(workbook, report, lang, document_id=document_id)


def report_stem(reference: str, shipment_id: str) -> str:
    """A report's file name without extension: `report-<reference>` (or the id's start)."""
    stem = f"report-{reference or shipment_id[:12]}"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem)[:80]
