"""Reports: one `Report` rendered as JSON, HTML, CSV, XLSX, an annotated manifest, an e-mail.

Every renderer is pure: `Report` in, text or bytes out. Languages are "en" and "zh".
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Each renderer's module is imported when it is first asked for: a check that writes JSON
# does not load the workbook library (and numpy under it) or the HTML templates.
_HOMES = {
    "annotate_workbook": "annotate",
    "render_email": "email_report",
    "render_html": "html_report",
    "render_summary_html": "html_report",
    "SCHEMA_VERSION": "json_report",
    "render_json": "json_report",
    "report_from_dict": "json_report",
    "report_to_dict": "json_report",
    "render_csv": "tables",
    "render_xlsx": "tables",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


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
