"""Report safety and shape: escaping, formula neutralising, spans, languages, annotation."""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from gateway.domain import Finding, Report, Severity, SourceRef
from gateway.errors import DocumentTooLarge, InputError
from gateway.reports.annotate import annotate_workbook
from gateway.reports.html_report import render_html
from gateway.reports.json_report import render_json, report_from_dict
from gateway.reports.model import neutralize
from gateway.reports.tables import render_csv, render_xlsx
from tests.reports.test_golden import sample_report


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+CN", "'+CN"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=x", "'\t=x"),
        ("\r=x", "'\r=x"),
        ("  =cmd|' /C calc'!A0", "'  =cmd|' /C calc'!A0"),
        ("EVP-75", "EVP-75"),
        ("", ""),
        ("'=already", "'=already"),
    ],
)
def test_neutralize_table(text, expected):
    assert neutralize(text) == expected


def _hostile_report() -> Report:
    _, report = sample_report("problems_to_germany")
    evil = Finding(
        rule_id="registration.model",
        code="MODEL_MISMATCH",
        severity=Severity.BLOCK,
        message_en='Model <script>alert(1)</script> "=cmd" differs',
        message_zh="型号 <img src=x onerror=alert(1)> 不一致",
        refs=(SourceRef(document_id="doc-1", sheet="Packing List", cell="C13"),),
        code_raw='=HYPERLINK("http://evil")\x1d<b>',
        span=(0, 1),
    )
    return dataclasses.replace(report, findings=(*report.findings, evil))


def test_html_escapes_document_text_and_wraps_it_in_bdi():
    html = render_html(_hostile_report(), "en")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    assert "<img src=x" not in html
    assert "<mark>=</mark>" in html  # the span highlights the first character
    assert "\x1d" not in html
    assert "\u241d" in html
    assert "<script" not in html.replace("&lt;script", "")  # no script at all: CSP friendly


def test_html_holds_both_languages_and_the_requested_one_is_the_default():
    html = render_html(_hostile_report(), "zh")
    assert 'id="report-zh"' in html
    assert 'id="report-en"' in html
    assert 'class="lang default" id="report-zh"' in html
    assert html.index('id="report-en"') < html.index('id="report-zh"')


def test_csv_and_xlsx_neutralize_formulas():
    report = _hostile_report()
    text = render_csv(report, "en")
    assert "'=HYPERLINK" in text
    wb = load_workbook(io.BytesIO(render_xlsx(report, "en")))
    values = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    types = [c.data_type for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert "f" not in types
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "@")) for v in values)


def test_xlsx_units_sheet_holds_every_unit_as_written_and_neutralised():
    _, report = sample_report("problems_to_germany")
    hostile = {
        "key": "=cmd|' /C calc'!A0",
        "lookup": "not_found",
        "reason": "  padded <b>&  ",
        "registration": "",
        "where": "sheet 'PL'\x1dcell C3",
        "line": "14",
    }
    report = dataclasses.replace(report, units=(*report.units, hostile, {"key": "K", "line": "3a"}))
    wb = load_workbook(io.BytesIO(render_xlsx(report, "en")))
    units = wb.worksheets[-1]
    rows = [[c.value for c in row] for row in units.iter_rows()]
    assert len(rows) == 1 + len(report.units)
    assert rows[-2] == ["'=cmd|' /C calc'!A0", "not_found", "  padded <b>&  ", None,
                        "sheet 'PL'\u241dcell C3", 14]  # fmt: skip
    assert rows[-1] == ["K", None, None, None, None, "3a"]
    assert all(c.data_type != "f" for row in units.iter_rows() for c in row)
    first = report.units[0]
    assert rows[1][0] == first["key"]


def test_json_round_trips_and_is_stable():
    _, report = sample_report("problems_to_germany")
    text = render_json(report)
    assert report_from_dict(json.loads(text)) == report
    assert render_json(report) == text


def test_a_large_json_report_has_one_line_per_row_and_reads_back_the_same():
    _, report = sample_report("problems_to_germany")
    small = render_json(report)
    first = dict(report.units[0])
    many = tuple({**first, "key": f"{first['key']}-{i}", "line": str(i)} for i in range(300))
    large = dataclasses.replace(report, units=(*report.units, *many))
    text = render_json(large)
    assert report_from_dict(json.loads(text)) == large
    lines = text.splitlines()
    assert sum(1 for line in lines if line.startswith('    {"key": ')) == len(large.units)
    assert sum(1 for line in lines if line.startswith('    {"rule_id": ')) == len(report.findings)
    # the header keeps its two-space indent, as in a small report
    assert text.splitlines()[:12] == small.splitlines()[:12]
    assert len(lines) < len(small.splitlines()) + len(many) + 5


def test_unknown_language_is_refused():
    _, report = sample_report("clean_to_germany")
    with pytest.raises(ValueError, match="'fr'"):
        render_html(report, "fr")


def test_annotation_keeps_values_and_sheets_and_drops_nothing_else():
    sample, report = sample_report("problems_to_germany")
    original = load_workbook(io.BytesIO(sample.documents[0].data))
    annotated = load_workbook(io.BytesIO(annotate_workbook(sample.documents[0].data, report)))
    # the user's sheets, the legend, and a last one saying what the copy holds
    assert annotated.sheetnames == [*original.sheetnames, "Legend", "Gateway note"]
    for ws in original.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert annotated[ws.title][cell.coordinate].value == cell.value
    commented = {
        c.coordinate for row in annotated["Packing List"].iter_rows() for c in row if c.comment
    }
    assert {"E11", "H11", "J9", "J10"} <= commented


@pytest.mark.parametrize(
    ("lang", "legend", "block_word", "comment_word"),
    [("en", "Legend", "block", "What"), ("zh", "图例", "阻断", "批注")],
)
def test_annotation_legend_and_comments_speak_the_readers_language(
    lang: str, legend: str, block_word: str, comment_word: str
) -> None:
    sample, report = sample_report("problems_to_germany")
    data = annotate_workbook(sample.documents[0].data, report, lang)
    book = load_workbook(io.BytesIO(data))
    sheet = book[legend]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    text = " ".join(str(v) for row in rows for v in row if v is not None)
    assert comment_word in text
    # one row per severity: its colour is the fill the marked cells carry, with a count
    by_word = {
        row[1]: row for row in rows if row[1] in ("block", "warn", "info", "阻断", "警告", "提示")
    }
    assert len(by_word) == 3
    block_row = next(r for r in sheet.iter_rows() if r[1].value == block_word)
    marked = book["Packing List"]
    blocked = [
        c
        for row in marked.iter_rows()
        for c in row
        if c.comment and c.fill.fgColor.rgb.endswith("F4C7C3")
    ]
    assert block_row[0].fill.fgColor.rgb == blocked[0].fill.fgColor.rgb
    assert by_word[block_word][4] == len(blocked) > 0
    # the comments are in the same language as the legend
    comment = marked["J10"].comment.text
    assert ("校验位" in comment) == (lang == "zh")
    assert ("Check digit" in comment) == (lang == "en")


def test_annotation_refuses_a_workbook_that_is_not_in_the_report():
    _, report = sample_report("problems_to_germany")
    other = io.BytesIO()
    Workbook().save(other)
    with pytest.raises(InputError, match="not one of the report's documents"):
        annotate_workbook(other.getvalue(), report)


def test_annotation_refuses_non_xlsx_bytes():
    _, report = sample_report("problems_to_germany")
    with pytest.raises(InputError):
        annotate_workbook(b"not a zip", report, document_id="doc-1")


def _poppler(tool: str, *args: str) -> str:
    import shutil
    import subprocess

    if shutil.which(tool) is None:
        pytest.fail(f"{tool} (Debian poppler-utils, installed by scripts/setup.sh --dev) is needed")
    return subprocess.run([tool, *args], check=True, capture_output=True, text=True).stdout


@pytest.mark.parametrize(
    ("lang", "verdict", "heading"),
    [
        ("en", "BLOCK - do not submit until fixed", "What blocks this shipment"),
        ("zh", "阻断 - 修正前请勿申报", "阻断原因"),
    ],
)
def test_pdf_holds_the_report_in_its_language_with_a_cjk_font(tmp_path, lang, verdict, heading):
    from PIL import Image, ImageChops

    from gateway.reports.pdf_report import render_pdf

    _, report = sample_report("problems_to_germany")
    pdf = tmp_path / f"report.{lang}.pdf"
    pdf.write_bytes(render_pdf(report, lang))
    text = _poppler("pdftotext", "-layout", str(pdf), "-")
    flat = " ".join(text.split())
    assert verdict in flat
    assert heading in flat
    for finding in report.findings:
        assert finding.code in flat  # every finding, not a summary of them
    other = "阻断原因" if lang == "en" else "What blocks this shipment"
    assert other not in flat  # one language per PDF
    fonts = _poppler("pdffonts", str(pdf))
    if lang == "zh":
        assert "Micro-Hei" in fonts or "CJK" in fonts, fonts
    _poppler("pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p"))
    page = Image.open(next(tmp_path.glob("p*.png"))).convert("RGB")
    assert page.width > page.height  # A4 landscape: the findings table fits across
    r, g, b = page.split()
    reds = ImageChops.multiply(
        ImageChops.multiply(r.point(lambda v: 255 * (v > 150)), g.point(lambda v: 255 * (v < 60))),
        b.point(lambda v: 255 * (v < 60)),
    )
    red = reds.histogram()[255]
    assert red > 1000  # the BLOCK banner is painted


def test_xlsx_findings_are_sorted_filterable_and_numbers_are_numbers():
    from gateway.storage.codec import report_from_data, report_to_data

    _, report = sample_report("problems_to_germany")
    shuffled = dataclasses.replace(report, findings=tuple(reversed(report.findings)))
    stored = report_from_data(report_to_data(shuffled))  # as the service renders it
    book = load_workbook(io.BytesIO(render_xlsx(stored, "en")))
    ws = book["Findings"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in ws.iter_rows(2)]
    assert ws.auto_filter.ref == f"A1:N{len(rows) + 1}"
    ranks = {"block": 0, "warn": 1, "info": 2}
    keys = [(ranks[r["Severity"]], r["Row"] or 0, r["Cell"] or "") for r in rows]
    assert [k[:2] for k in keys] == sorted(k[:2] for k in keys)
    placed = [r for r in rows if r["Row"]]
    assert placed
    assert all(isinstance(r["Row"], int) for r in placed)
    assert all(isinstance(r["Line"], int) for r in placed if r["Line"])
    summary = {row[0].value: row[1].value for row in book["Summary"].iter_rows()}
    assert summary["Battery units"] == report.counts["units"] == 4  # PK0101 listed twice
    assert summary["Blocking"] == 8
    assert summary["Checked at"] == report.generated_at.replace(tzinfo=None)
    units = book["Units"]
    assert all(isinstance(row[5].value, int) for row in units.iter_rows(2) if row[5].value)


def test_the_report_explains_source_tags_and_writes_transport_in_the_readers_language():
    html = render_html(_hostile_report(), "zh")
    zh = html[html.index('id="report-zh"') :]
    en = html[html.index('id="report-en"') : html.index('id="report-zh"')]
    assert "<td><bdi>海运</bdi></td>" in zh
    assert "<td><bdi>sea</bdi></td>" in en
    assert "平台公布的 2026-04-01 政策，尚未确认" in zh  # SEED, where the tag appears
    assert 'title="Chinese customs practice">CN-CUS</abbr>' in en


def test_annotation_refuses_a_workbook_that_inflates_like_a_bomb():
    _, report = sample_report("problems_to_germany")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * 50_000_000)
    with pytest.raises(DocumentTooLarge, match="compression ratio"):
        annotate_workbook(bomb.getvalue(), report, document_id="doc-1")
