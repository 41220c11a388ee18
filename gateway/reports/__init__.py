"""Reports: one `Report` rendered as JSON, HTML, CSV, XLSX, an annotated manifest, an e-mail.

Every renderer is pure: `Report` in, text or bytes out. Languages are "en" and "zh".
"""

from __future__ import annotations

from gateway.reports.annotate import annotate_workbook
from gateway.reports.email_report import render_email
from gateway.reports.html_report import render_html, render_summary_html
from gateway.reports.json_report import (
    SCHEMA_VERSION,
    render_json,
    report_from_dict,
    report_to_dict,
)
from gateway.reports.tables import render_csv, render_xlsx

__all__ = [
    "SCHEMA_VERSION",
    "annotate_workbook",
    "render_csv",
    "render_email",
    "render_html",
    "render_json",
    "render_summary_html",
    "render_xlsx",
    "report_from_dict",
    "report_to_dict",
]
