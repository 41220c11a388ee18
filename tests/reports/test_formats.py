"""The report-format registry: every door writes a format's file the same way."""

from __future__ import annotations

import pytest

from gateway.reports.formats import FORMATS, NAMES, render, report_format
from gateway.reports.html_report import render_html
from gateway.reports.json_report import render_json
from gateway.reports.tables import render_csv, render_xlsx
from tests.reports.test_golden import sample_report as _sample


def sample_report():
    return _sample("problems_to_germany")[1]


def test_the_registry_offers_the_formats_of_the_cli_and_the_api_in_their_order():
    assert NAMES == ("json", "html", "csv", "xlsx", "pdf", "annotated")
    assert {f.extension for f in FORMATS.values()} == {"json", "html", "csv", "xlsx", "pdf"}
    assert [f.name for f in FORMATS.values() if f.binary] == ["xlsx", "pdf", "annotated"]


def test_csv_files_carry_a_bom_for_excel_and_the_text_renderer_does_not():
    report = sample_report()
    text = render_csv(report, "zh")
    assert not text.startswith("\ufeff")
    assert render(report, "csv", "zh") == b"\xef\xbb\xbf" + text.encode("utf-8")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_text_formats_are_the_renderers_output_as_utf8(lang):
    report = sample_report()
    assert render(report, "json", lang) == render_json(report).encode("utf-8")
    assert render(report, "html", lang) == render_html(report, lang).encode("utf-8")
    assert render(report, "xlsx", lang)[:2] == render_xlsx(report, lang)[:2] == b"PK"


def test_an_unknown_format_names_the_known_ones():
    with pytest.raises(ValueError, match="expected one of json, html, csv, xlsx, pdf, annotated"):
        report_format("docx")


def test_annotated_needs_the_workbook():
    with pytest.raises(ValueError, match="needs the uploaded workbook"):
        render(sample_report(), "annotated")


def test_the_check_command_loads_no_spreadsheet_html_image_or_logging_library_until_asked():
    # a fresh interpreter: this test process has them all imported already
    import subprocess
    import sys

    heavy = ["openpyxl", "jinja2", "numpy", "cv2", "zxingcpp", "PIL", "rapidocr", "onnxruntime"]
    heavy += ["structlog", "sqlalchemy", "flask"]
    code = (
        "import sys, datetime as dt, gateway.cli.check\n"
        "from gateway.domain import Report, Verdict\n"
        "from gateway.reports.formats import render\n"
        "now = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)\n"
        "render(Report('s', Verdict.HOLD, now, 'default@1', (), {}), 'json')\n"
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
