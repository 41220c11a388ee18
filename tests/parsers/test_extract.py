"""Extraction of generated manifests with known content, and the input defences."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest

from gateway.errors import CorruptDocument, DocumentTooLarge, InputError, UnsupportedDocument
from gateway.parsers import Limits, extract, sniff
from gateway.parsers.cli import to_records
from gateway.parsers.codes import find_codes
from gateway.parsers.countries import normalize_country
from gateway.parsers.serialize import dumps, loads
from samples.manifests import build_csv_gbk, build_pdf, build_xlsx


def _key(code):
    if isinstance(code, str):
        return code
    return tuple(sorted(code.items()))


def _check(data, exp, filename):
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
        ("(01)06901234567893(21)SN1", []),  # wrong check digit: not an identifier
    ],
)
def test_find_codes_reads_every_written_form(text, expected):
    assert [f.ais for f in find_codes(text)] == expected


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
def test_scanned_pdf_page_is_read_by_ocr():
    data, exp = build_pdf(seed=21, rotated_page=False, scanned_page=True)
    out = to_records(extract(data, filename="scan.pdf"))
    scan_codes = {_key(r["code"]) for r in exp.records if r.get("source") == "scan"}
    got = {_key(r["code"]): r for r in out["records"] if r["method"] == "ocr"}
    assert len(scan_codes & set(got)) >= 5  # OCR may miss one code; it must not invent any
    assert set(got) <= {_key(r["code"]) for r in exp.records}
