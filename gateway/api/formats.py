"""Report rendering for the API and the mailer, through `gateway.reports` (Flask-free)."""

from __future__ import annotations

from gateway.domain import Report

MEDIA_TYPES = {
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "annotated": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def render(report: Report, fmt: str, lang: str = "en") -> bytes:
    """The report as bytes in `fmt` ("json", "html", "csv", "xlsx", "pdf")."""
    from gateway import reports

    if fmt == "json":
        return reports.render_json(report).encode("utf-8")
    if fmt == "html":
        return reports.render_html(report, lang).encode("utf-8")
    if fmt == "csv":
        return reports.render_csv(report, lang).encode("utf-8")
    if fmt == "xlsx":
        return reports.render_xlsx(report, lang)
    if fmt == "pdf":
        from gateway.reports.pdf_report import render_pdf

        return render_pdf(report, lang)
    msg = f"Unknown report format {fmt!r}: expected json, html, csv, xlsx or pdf."
    raise ValueError(msg)


def annotate(report: Report, workbook: bytes, document_id: str, lang: str = "en") -> bytes:
    """The uploaded workbook with the findings' cells coloured and commented."""
    from gateway import reports

    return reports.annotate_workbook(workbook, report, lang, document_id=document_id)


def email_parts(report: Report, lang: str) -> tuple[str, str, str]:
    """(subject, text, html) of the report-ready email."""
    from gateway import reports

    return reports.render_email(report, lang)
