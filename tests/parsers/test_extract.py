"""Extraction of generated manifests with known content, and the input defences."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from typing import Any

import pytest

from gateway.countries import COUNTRIES, normalize_country
from gateway.domain import (
    CodeOccurrence,
    ExtractionMethod,
    ExtractionProblem,
    ManifestLine,
    SourceRef,
)
from gateway.errors import CorruptDocument, DocumentTooLarge, InputError, UnsupportedDocument
from gateway.parsers import Limits, extract, sniff
from gateway.parsers.cli import to_records
from gateway.parsers.codes import find_codes, read_cell
from gateway.parsers.pages import PageSymbol, PageText
from gateway.parsers.placement import place_symbols
from gateway.parsers.serialize import dumps, loads
from samples.manifests import Expected, build_csv_gbk, build_pdf, build_xlsx


def _key(code: str | dict[str, str]) -> str:
    if isinstance(code, str):
        return code
    return json.dumps(code, sort_keys=True)


def _check(data: bytes, exp: Expected, filename: str) -> dict[str, Any]:
    out = to_records(extract(data, filename=filename))
    got = {_key(r["code"]): r for r in out["records"]}
    want = {_key(r["code"]): r for r in exp.records}
    assert set(got) == set(want)
    for key, rec in want.items():
        for name in ("line", "lot", "qty", "destination", "hs_code", "un_number"):
            assert got[key][name] == rec[name], (key, name)
    flagged = {e["line"] for e in out["errors"] if e["kind"] == "identifier_destroyed_in_document"}
    assert flagged == set(exp.error_lines)
    return out


def test_xlsx_bilingual_title_block_merged_cells_and_code_forms():
    data, exp = build_xlsx(seed=11)
    out = _check(data, exp, "list.xlsx")
    assert out["header"]["shipper"] == "Example Energy Storage Co., Ltd."
    # the 18-digit customs declaration number in the header block is not read as an SSCC
    assert all(r["line"] is not None for r in out["records"])


def test_gbk_csv_semicolon_decimal_comma_and_scientific_gtin():
    data, exp = build_csv_gbk(seed=12)
    assert sniff(data, "x.csv") == "text/csv"
    _check(data, exp, "list.csv")


def test_text_pdf_ruled_and_rotated_unruled_page():
    data, exp = build_pdf(seed=13)
    _check(data, exp, "list.pdf")


def test_sniff_ignores_the_file_name():
    data, _ = build_xlsx(seed=1)
    assert sniff(data, "evil.csv").endswith("spreadsheetml.sheet")
    with pytest.raises(UnsupportedDocument):
        sniff(b"<html><body>x</body></html>", "list.csv")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(01) 06901234567892 (21) SN1", [{"01": "06901234567892", "21": "SN1"}]),
        ("0106901234567892_x001D_21SN1", [{"01": "06901234567892", "21": "SN1"}]),
        ("]d2010690123456789210L1<GS>21S", [{"01": "06901234567892", "10": "L1", "21": "S"}]),
        ("https://id.x.cn/01/06901234567892/21/A1", [{"01": "06901234567892", "21": "A1"}]),
        ("01 09506000134352 Widget 10 pcs", [{"01": "09506000134352"}]),  # spaced HRI key
        ("(00) 3 6901234 000000001 7", [{"00": "369012340000000017"}]),  # label digit groups
        ("03H PB0 55A0 0000 0B1 C000001", ["03HPB055A000000B1C000001"]),  # GB/T 34014 groups
        (
            "7KQ2AE1L05-25B0012345; 7KQ2AE1L05-R-25B0012346",  # GB/T 45565, one re-used
            ["7KQ2AE1L05-25B0012345", "7KQ2AE1L05-R-25B0012346"],
        ),
        (
            "(01)06901234567892(21)A1\n(01)06901234567892(21)A2",
            [{"01": "06901234567892", "21": "A1"}, {"01": "06901234567892", "21": "A2"}],
        ),
        ("Battery pack LFP 280Ah", []),
        (  # one pack's GS1 code and its GB/T 34014 code in one cell
            "(01)06901234567892(21)PK1\n03HPB055A000000B1C000001",
            [{"01": "06901234567892", "21": "PK1"}, "03HPB055A000000B1C000001"],
        ),
        (
            "(01)06901234567892(21)PK1, 03HPB055A000000B1C000001",
            [{"01": "06901234567892", "21": "PK1"}, "03HPB055A000000B1C000001"],
        ),
    ],
)
def test_find_codes_reads_every_written_form(text, expected):
    text = text.replace("\\n", "\n")
    found = find_codes(text)
    assert [f.value for f in found] == expected
    assert all(f.valid for f in found)


@pytest.mark.parametrize(
    ("text", "code_column", "problem"),
    [
        ("(01)06901234567893(21)SN1", False, "CHECK_DIGIT"),  # wrong check digit
        ("https://id.gs1.org/01/06901234567893/21/SN1", False, "CHECK_DIGIT"),
        ("010690123456789321SN1", False, "CHECK_DIGIT"),  # raw element string
        ("(00)369012340000000018", False, "CHECK_DIGIT"),
        ("01 06901234567893", False, "CHECK_DIGIT"),  # spaced HRI
        ("6901234567893", True, "CHECK_DIGIT"),  # a bare GTIN-13 in a code column
        ("369012340000000018", True, "CHECK_DIGIT"),  # a bare SSCC in a code column
    ],
)
def test_find_codes_keeps_invalid_identifiers_with_their_problems(text, code_column, problem):
    found = find_codes(text, code_column=code_column)
    assert len(found) == 1
    assert not found[0].valid
    codes = [p.code for p in found[0].decoded.problems if p.severity == "error"]
    assert any(problem in code for code in codes), codes


@pytest.mark.parametrize(
    ("text", "possible"),
    [
        ("TN2631N0001", ["TN2631N0001"]),  # a serial without its GTIN: a person looks
        ("(01)06901234567892(21)TN1 see label", []),  # a code: nothing else is "possible"
        ("N/A", []),
        ("见附件", []),
    ],
)
def test_code_column_text_that_may_be_a_code_is_reported(text, possible):
    assert read_cell(text, code_column=True).possible == possible
    assert read_cell(text, code_column=False).possible == []


@pytest.mark.parametrize(
    ("value", "code"),
    [("德国 Germany", "DE"), ("Hamburg, Germany", "DE"), ("GERMANY", "DE"), ("墨西哥", "MX"),
     ("NL", "NL"), ("Atlantis", None)],
)  # fmt: skip
def test_destinations_normalize_to_alpha2(value, code):
    assert normalize_country(value) == code


def test_extraction_round_trips_through_json():
    data, _ = build_xlsx(seed=5)
    ex = extract(data, filename="a.xlsx")
    assert loads(dumps(ex)) == ex


# ----------------------------------------------------------------------------- defences


def _xlsx_with(sheet_xml: bytes, *, extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr(
            "xl/workbook.xml",
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets>'
            '<sheet name="S" sheetId="1"/></sheets></workbook>',
        )
        zf.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        for name, body in (extra or {}).items():
            zf.writestr(name, body)
    return buf.getvalue()


def test_zip_bomb_workbook_is_refused_before_parsing():
    bomb = b"<x>" + b" " * (30 * 1024 * 1024) + b"</x>"
    data = _xlsx_with(b"<worksheet/>", extra={"xl/sharedStrings.xml": bomb})
    assert len(data) < 200_000
    with pytest.raises(DocumentTooLarge, match="compression ratio"):
        extract(data, filename="bomb.xlsx")


def test_xxe_workbook_is_refused():
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&x;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    with pytest.raises(CorruptDocument, match=r"Forbidden|DTD|Entit"):
        extract(_xlsx_with(xxe), filename="xxe.xlsx")


def test_huge_dimension_is_refused_before_iterating():
    sheet = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<dimension ref="A1:XFD1048576"/><sheetData/></worksheet>'
    )
    with pytest.raises(DocumentTooLarge, match="XFD1048576"):
        extract(_xlsx_with(sheet), filename="dim.xlsx")


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 100)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_png_of_60000_by_60000_pixels_is_refused_by_its_header():
    with pytest.raises(DocumentTooLarge):
        extract(_png_header(60000, 60000), filename="big.png")


def test_truncated_documents_raise_input_errors():
    xlsx, _ = build_xlsx(seed=3)
    pdf, _ = build_pdf(seed=3, rotated_page=False)
    for data, name in ((xlsx[: len(xlsx) // 2], "t.xlsx"), (pdf[:400], "t.pdf")):
        with pytest.raises(InputError):
            extract(data, filename=name)


def test_pdf_page_cap():
    pdf, _ = build_pdf(seed=3, rotated_page=False)
    with pytest.raises(DocumentTooLarge, match="pages"):
        extract(pdf, filename="p.pdf", limits=Limits(max_pages=1))


def test_csv_column_cap():
    data = (",".join(["x"] * 500) + "\n").encode()
    with pytest.raises(DocumentTooLarge, match="fields"):
        extract(data, filename="wide.csv")


@pytest.mark.slow
def test_sideways_scanned_page_with_a_barcode_per_line_gives_one_record_per_code():
    # the scan lies turned a quarter (fed sideways); every line prints its code and carries
    # the same code as a QR code: each physical code must come out once, on its line
    data, exp = build_pdf(
        seed=21, rotated_page=False, scanned_page=True, scan_turns=1, scan_barcodes=True
    )
    out = to_records(extract(data, filename="scan.pdf"))
    scanned = [r for r in exp.records if r.get("source") == "scan"]
    got = [r for r in out["records"] if r["where"].startswith("page 3")]
    assert sorted(_key(r["code"]) for r in got) == sorted(_key(r["code"]) for r in scanned)
    by_code = {_key(r["code"]): r for r in got}
    for rec in scanned:
        read = by_code[_key(rec["code"])]
        assert read["method"] == "barcode_pdf"  # the barcode wins over the OCR'd text
        for name in ("line", "lot", "destination", "hs_code", "un_number"):
            assert read[name] == rec[name], (rec["code"], name)
    assert len(out["records"]) == len(exp.records)


# ----------------------------------------------------------------------------- scanned pages


def _scanned_line(line_no: str, top: float, *codes: str) -> ManifestLine:
    ref = SourceRef("d", page=1, bbox=(20.0, top, 500.0, top + 10.0), line=line_no)
    occ = tuple(CodeOccurrence(raw=c, source=ref, method=ExtractionMethod.OCR) for c in codes)
    return ManifestLine(source=ref, line_no=line_no, codes=occ)


def _symbol(raw: str, top: float) -> PageSymbol:
    return PageSymbol(raw, "qrcode", 700.0, 740.0, top, top + 40.0, ((0.0, 0.0),) * 4)


def test_a_barcode_wins_over_the_ocr_reading_of_its_line():
    gtin = "06901234567892"
    lines = [
        _scanned_line("1", 100.0, f"(01){gtin}(21)SN1001"),  # confirmed by its barcode
        _scanned_line("2", 160.0, f"(01){gtin}(21)SN1O02"),  # misread: the barcode says SN1002
        _scanned_line("3", 220.0, f"(01){gtin}(21)SN1003"),  # no barcode: OCR reading stays
    ]
    page = PageText(
        1,
        [],
        symbols=[
            _symbol(f"]d201{gtin}21SN1001", 95.0),
            _symbol(f"]d201{gtin}21SN1002", 155.0),
            _symbol(f"]d201{gtin}21SN9999", 400.0),  # printed below the table
        ],
    )
    problems: list[ExtractionProblem] = []
    placed, loose = place_symbols(lines, page, "d", ExtractionMethod.BARCODE_PDF, problems)
    assert [[(c.method.value, c.raw) for c in line.codes] for line in placed] == [
        [("barcode_pdf", f"]d201{gtin}21SN1001")],
        [("barcode_pdf", f"]d201{gtin}21SN1002")],
        [("ocr", f"(01){gtin}(21)SN1003")],
    ]
    assert [c.raw for c in loose] == [f"]d201{gtin}21SN9999"]
    assert [p.kind for p in problems] == ["ocr_contradicts_barcode"]
    assert problems[0].line_no == "2"


def test_invalid_code_built_from_columns_is_kept_on_its_line():
    data = (
        "No.,GTIN,Serial No.,Qty\n1,06901234567892,SN#1,1\n2,06901234567892,SN2,1\n"
        "3,06901234567893,SN3,1\n"
    )
    ex = extract(data.encode(), filename="l.csv")
    assert [[c.raw for c in line.codes] for line in ex.lines] == [
        ["(01)06901234567892(21)SN#1"],  # '#' is not a CSET 82 character
        ["(01)06901234567892(21)SN2"],
        ["(01)06901234567893(21)SN3"],  # a mistyped GTIN: not "destroyed by Excel"
    ]
    assert [line.codes[0].source.cell for line in ex.lines] == ["B2", "B3", "B4"]
    assert not [p for p in ex.problems if p.kind == "identifier_destroyed_in_document"]


def test_a_line_whose_code_column_holds_no_readable_code_says_so():
    data = "No.,Battery Code,Qty\n1,TN2631N0001,1\n2,(01)06901234567892(21)SN2,1\n"
    ex = extract(data.encode(), filename="l.csv")
    possible = [p for p in ex.problems if p.kind == "possible_code"]
    assert [(p.line_no, p.source.cell if p.source else None) for p in possible] == [("1", "B2")]
    assert "TN2631N0001" in possible[0].message


# ----------------------------------------------------------------------------- countries


def test_every_iso_country_is_known_by_its_codes_and_names():
    assert len(COUNTRIES) == 249
    for country in COUNTRIES:
        for written in (country.alpha2, country.alpha3.lower(), *country.names, *country.zh):
            assert normalize_country(written) == country.alpha2, written


@pytest.mark.parametrize(
    ("value", "code"),
    [("Port of Rotterdam, The Netherlands", "NL"), ("Germany (DE)", "DE"), ("U.S.A.", "US"),
     ("Türkiye", "TR"), ("越南 Vietnam", "VN"), ("印度尼西亚", "ID"), ("Republic of Korea", "KR"),
     ("Busan, South Korea", "KR"), ("NO", "NO"), ("no idea", None), ("", None)],
)  # fmt: skip
def test_country_forms_seen_on_documents(value, code):
    assert normalize_country(value) == code


def test_documents_registry_rules_and_code_engine_share_one_country_table():
    from gateway import countries
    from gateway.gs1 import linters
    from gateway.platform_client import importer
    from gateway.rules import manifest

    for country in COUNTRIES:
        assert normalize_country(country.zh[0]) == country.alpha2
    assert linters.ALPHA2 is manifest.ALPHA2 is countries.ALPHA2
    assert importer.normalize_country is normalize_country


def test_refuses_to_parse_when_openpyxl_would_parse_without_defusedxml(monkeypatch):
    import openpyxl

    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    with pytest.raises(RuntimeError, match="defusedxml"):
        extract(b"No.,Code\n1,x\n", filename="a.csv")


def test_xlsx_reader_reads_formulas_rich_text_and_skips_phonetic_hints():
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    strings = (
        f'<sst xmlns="{ns}"><si><t>No.</t></si><si><t>Battery ID</t></si>'
        f"<si><t>Qty</t></si><si><r><t>(01)0690123456789</t></r><r><t>2(21)S1</t></r></si>"
        f"<si><t>德国</t></si><si><t>Dest.</t></si>"
        f'<si><t>7</t><rPh sb="0" eb="1"><t>X</t></rPh></si></sst>'
    ).encode()
    sheet = (
        f'<worksheet xmlns="{ns}"><sheetData>'
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
        '<c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>5</v></c></row>'
        '<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="s"><v>3</v></c>'
        '<c r="C2"><f>1+2</f><v>3</v></c><c r="D2" t="s"><v>4</v></c></row>'
        '<row r="3"><c r="A3" t="s"><v>6</v></c>'
        '<c r="B3" t="inlineStr"><is><r><t>(01)06901234567892</t></r><r><t>(21)S2</t></r></is></c>'
        '<c r="C3"><v>1</v></c><c r="D3" t="inlineStr"><is><t xml:space="preserve"> FR </t></is>'
        "</c></row></sheetData></worksheet>"
    ).encode()
    ex = extract(_xlsx_with(sheet, extra={"xl/sharedStrings.xml": strings}), filename="r.xlsx")
    got = [(ln.line_no, ln.quantity, ln.destination, [c.raw for c in ln.codes]) for ln in ex.lines]
    assert got == [
        ("1", 3.0, "DE", ["(01)06901234567892(21)S1"]),  # formula: its cached value, not "1+2"
        ("7", 1.0, "FR", ["(01)06901234567892(21)S2"]),  # "7", not the phonetic hint "7X"
    ]


def test_gtin_serial_and_lot_columns_make_one_element_string():
    csv_text = (
        "No.,GTIN,Serial No.,Lot No.,Qty\r\n"
        "1,06901234567892,SN1,L24A,1\r\n"
        "2,06901234567892,SN2,批次-二号,1\r\n"  # a lot AI (10) cannot hold: kept as a field
    )
    out = to_records(extract(csv_text.encode("utf-8"), filename="list.csv"))
    got = {r["line"]: (r["code"], r["lot"]) for r in out["records"]}
    assert got == {
        1: ({"01": "06901234567892", "10": "L24A", "21": "SN1"}, "L24A"),
        2: ({"01": "06901234567892", "21": "SN2"}, "批次-二号"),
    }
    assert out["errors"] == []


@pytest.mark.parametrize("delimiter", ["\t", ";", "|"])
def test_csv_delimiter_is_the_tables_not_the_title_blocks(delimiter):
    title = [
        "PACKING LIST",
        "Exporter: Tianjin Example Power Co., Ltd., Tianjin, P.R. China",
        "Consignee: Baltic Cells UAB, Minijos g. 180, Klaipeda, Lithuania",
        "Invoice No.: X-1, dated 21 Nov 2026",
    ]
    header = ["Item", "Battery Code", "Qty", "Net Weight (kg)"]
    rows = [[str(i), f"(01)06901234567892(21)SN{i}", "1", "48"] for i in range(1, 4)]
    text = "\n".join([*title, delimiter.join(header), *(delimiter.join(r) for r in rows)])
    ex = extract(text.encode(), filename="list.csv")
    assert [line.codes[0].raw for line in ex.lines] == [r[1] for r in rows]
    assert ex.header["shipper"].startswith("Tianjin Example Power Co., Ltd.")


def test_a_digital_link_column_is_a_code_column():
    url = "https://qr.example-power.cn/01/06901234567892/10/B26-03K/21/SX0001"
    data = f"No.,Digital Link URI/数字链接,Qty\n1,{url},1\n".encode()
    (line,) = extract(data, filename="l.csv").lines
    assert [c.raw for c in line.codes] == [url]


def test_spaced_hri_in_pdf_text_is_read_and_a_page_without_table_keeps_its_codes():
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    pdf.drawString(72, 760, "Delivery note for the customer")
    pdf.drawString(72, 740, "01 09506000134352 Widget 10 pcs")
    pdf.drawString(72, 720, "(01)06901234567893(21)SN1 spare module")
    pdf.save()
    ex = extract(buf.getvalue(), filename="note.pdf")
    records = to_records(ex)["records"]
    assert [(r["code"], r["valid"]) for r in records] == [
        ({"01": "09506000134352"}, True),
        ({"01": "06901234567893", "21": "SN1"}, False),
    ]
    assert all(r["where"].startswith("page 1") for r in records)


def test_csv_rows_are_numbered_as_a_spreadsheet_shows_them():
    data = b"PACKING LIST\n\nNo.,Battery Code,Qty\n\n1,(01)06901234567892(21)SN1,1\n"
    (line,) = extract(data, filename="l.csv").lines
    assert line.codes[0].source.cell == "B5"


def test_a_file_whose_type_differs_from_its_name_is_read_by_content_and_said_so():
    data, _ = build_pdf(seed=13)
    ex = extract(data, filename="packing list.xlsx")
    assert ex.document.media_type == "application/pdf"
    assert ex.lines
    (problem,) = [p for p in ex.problems if p.kind == "type_differs_from_name"]
    assert "'packing list.xlsx'" in problem.message
    assert "PDF" in problem.message
    assert not [
        p for p in extract(data, filename="list.pdf").problems if p.kind == "type_differs_from_name"
    ]


@pytest.mark.parametrize(
    ("label", "total"),
    [
        ("TOTAL", True), ("Totals: 2", True), ("  grand total", True), ("tOtAl", True),
        ("合计", True), ("总数 (PCS)", True), ("共计", True), ("\u017fub-total", False),
        ("小计", False), ("Sub-Total", False),
    ],
)  # fmt: skip
@pytest.mark.parametrize("column", [0, 1])
def test_a_totals_row_is_known_by_its_label_in_any_cell_and_case(label, total, column):
    """A totals row ends the lines wherever its label stands; a sub-total states no totals."""
    gtin = "06901234567892"
    rows = [
        "No.,Description,Qty,Battery code",
        f"1,Battery module,1,(01){gtin}(21)A1",
        f"2,Totally new module,1,(01){gtin}(21)A2",  # a word that only starts like a label
        # beside a line number too: the label decides
        ",".join([label, "", "2", ""] if column == 0 else ["3", label, "2", ""]),
    ]
    ex = extract("\n".join(rows).encode(), filename="list.csv")
    assert [line.line_no for line in ex.lines] == ["1", "2"]
    assert ex.header.get("total_quantity") == ("2" if total else None)
