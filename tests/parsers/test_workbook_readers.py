"""The compiled workbook reader (python-calamine) against the streaming reader, and hostile
workbooks in the parser sandbox.

The compiled reader must give the table reader exactly the cells the streaming reader gives:
the same sheets, rows as the user numbers them, columns, values (text as written, integral
numbers as ints, dates as datetimes). Workbooks whose styles pad numbers with zeros are left
to the streaming reader, which sees cell formats.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile

import pytest
from openpyxl import Workbook

from gateway.errors import (
    CorruptDocument,
    DocumentTooLarge,
    InputError,
    UnsupportedDocument,
)
from gateway.parsers import extract
from gateway.parsers.excel import cells_within_limits, read_xlsx
from gateway.parsers.limits import DEFAULT_LIMITS, Limits
from gateway.parsers.sandbox import extract_sandboxed
from samples.hostile import build_corpus, manifest_xlsx, xlsx

GTIN = "06901234567892"  # a valid GTIN-14 with a leading zero
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _edge_workbook(*, zero_pad: bool = False) -> bytes:
    """A packing list with the cases a reader gets wrong: codes as text and as numbers,
    merged line numbers, a hidden row, a hidden sheet, dates, times, numbers as text."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Packing List"
    ws.append(["Shipper:", "ACME Energy Co., Ltd."])
    ws.append(["Destination:", "Germany"])
    ws.append([])
    ws.append(["No.", "GTIN", "Serial No.", "Battery code", "Lot No.", "Qty", "Production date",
               "HS Code", "Weight (kg)"])  # fmt: skip
    ws.append([1, GTIN, "SN0001", None, "L1", 1, dt.datetime(2026, 3, 1), "85076000", 12.5])
    ws.append([2, int(GTIN), 867144, None, "L1", "1", dt.date(2026, 3, 2), 85076000, 12])
    ws.append([3, None, None, f"(01){GTIN}(21)SN0003", "L2", 2, dt.time(12, 30), "8507.60", 1e16])
    ws.append([None, None, None, f"(01){GTIN}(21)SN0004"])  # continues line 3 (merged No.)
    ws.merge_cells("A7:A8")
    ws.append([4, "6.90123E+12", None, None, "0012", 1, 45000, "85076000", -5])
    ws.append([5, None, None, int(GTIN), "L3", 1])  # a GTIN typed into a code column
    ws.row_dimensions[10].hidden = True
    ws["G5"].number_format = "yyyy-mm-dd"
    ws["G9"].number_format = "dd/mm/yyyy"
    if zero_pad:
        ws["B6"].number_format = "0" * 14
    annex = wb.create_sheet("Annex")
    annex.sheet_state = "hidden"
    annex.append(["No.", "Battery code", "Qty"])
    annex.append([1, f"(01){GTIN}(21)AX0001", 1])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _grids(data: bytes, *, compiled: bool | None) -> list[tuple[object, ...]]:
    return [
        (g.sheet, g.rows, g.row_refs) for g in read_xlsx(data, DEFAULT_LIMITS, compiled=compiled)
    ]


def test_the_compiled_reader_gives_the_streaming_readers_cells():
    data = _edge_workbook()
    compiled = _grids(data, compiled=True)
    assert compiled == _grids(data, compiled=False)
    sheet, rows, refs = compiled[0]
    assert sheet == "Packing List"
    line1, line2 = rows[refs.index((5, None))], rows[refs.index((6, None))]
    assert line1[1] == GTIN  # text keeps its leading zero
    assert line2[1] == int(GTIN)  # numbers as ints, never 867144.0
    assert line2[2] == 867144
    assert line2[5] == "1"  # a number stored as text stays text
    assert line1[6] == dt.datetime(2026, 3, 1)
    assert line2[6] == dt.datetime(2026, 3, 2)
    assert (10, None) in refs  # a hidden row is read, as the user's Excel still holds it
    assert compiled[1][0] == "Annex"  # and so is a hidden sheet


def test_the_extraction_names_cells_as_the_user_sees_them():
    ex = extract(_edge_workbook(), filename="edge.xlsx")
    codes = {c.raw: c.source for line in ex.lines for c in line.codes}
    first = next(src for raw, src in codes.items() if raw.endswith("(21)SN0001"))
    assert (first.sheet, first.row) == ("Packing List", 5)
    assert f"(01){GTIN}(10)L1(21)867144" in codes  # serial typed as a number: its digits
    assert codes[f"(01){GTIN}(21)SN0004"].cell == "D8"
    assert codes[f"(01){GTIN}"].cell == "D10"  # a GTIN typed as a number, without ".0"
    assert codes[f"(01){GTIN}(21)AX0001"].sheet == "Annex"
    destroyed = [p for p in ex.problems if p.kind == "identifier_destroyed_in_document"]
    assert destroyed
    assert "6.90123E+12" in destroyed[0].message
    assert not any("e+" in raw.lower() or ".0" in raw for raw in codes)


def test_raw_parts_read_alike_rich_text_phonetics_and_escapes():
    shared = (
        f'<?xml version="1.0"?><sst {NS}>'
        '<si><r><t xml:space="preserve">(01)06901234567892</t></r><r><t>(21)RICH1</t></r></si>'
        '<si><t>型号</t><rPh sb="0" eb="2"><t>XINGHAO</t></rPh></si>'
        "<si><t>0106901234567892_x001D_21GS1</t></si>"
        "<si><t>No.</t></si><si><t>Battery code</t></si>"
        "</sst>"
    ).encode()
    sheet = (
        f'<?xml version="1.0"?><worksheet {NS}><dimension ref="A1:C4"/><sheetData>'
        '<row r="1"><c r="A1" t="s"><v>3</v></c><c r="B1" t="s"><v>4</v></c>'
        '<c r="C1" t="s"><v>1</v></c></row>'
        '<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="s"><v>0</v></c><c r="C2" t="b"><v>1</v></c>'
        "</row>"
        '<row r="4"><c r="A4"><v>2</v></c><c r="B4" t="s"><v>2</v></c>'
        '<c r="C4" t="str"><f>A4&amp;""</f><v>2</v></c></row>'
        "</sheetData></worksheet>"
    ).encode()
    data = xlsx(sheet, shared=shared)
    assert _grids(data, compiled=True) == _grids(data, compiled=False)
    ex = extract(data, filename="raw.xlsx")
    raws = sorted(c.raw for line in ex.lines for c in line.codes)
    assert len(raws) == 2
    assert raws[0] == "(01)06901234567892(21)RICH1"  # the runs joined, the phonetic hint not
    assert raws[1].startswith("0106901234567892")  # a raw element string with its GS


def test_zero_padded_number_formats_are_read_by_the_streaming_reader():
    data = _edge_workbook(zero_pad=True)
    _, rows, refs = _grids(data, compiled=None)[0]
    assert rows[refs.index((6, None))][1] == GTIN  # shown as Excel shows it
    # calamine gives no cell formats: it would give the bare number
    compiled = _grids(data, compiled=True)[0]
    assert compiled[1][compiled[2].index((6, None))][1] == int(GTIN)


# ----------------------------------------------------------------------------- hostile files

_ACTIONABLE = ("expected at most", "declares a DTD", "not a zip", "cut short", "Failed to read",
               "delete the empty rows")  # fmt: skip


def _corpus(name: str) -> bytes:
    return next(case.data for case in build_corpus() if case.name == name)


def _deep_xml() -> bytes:
    """A sheet whose XML nests 50,000 distinct elements after its data."""
    opened = "".join(f"<e{i}>" for i in range(50_000))
    closed = "".join(f"</e{i}>" for i in reversed(range(50_000)))
    return xlsx(_plain_sheet().replace(b"</sheetData>", f"</sheetData>{opened}{closed}".encode()))


def _plain_sheet(extra: str = "") -> bytes:
    def row(number: int, *values: str) -> str:
        cells = "".join(
            f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
            for i, v in enumerate(values)
        )
        return f'<row r="{number}">{cells}</row>'

    header = row(1, "No.", "Battery code", "Description", "Qty", "Destination")
    line = row(2, "1", f"(01){GTIN}(21)D1", "Li-ion battery pack", "1", "DE")
    return (
        f'<?xml version="1.0"?><worksheet {NS}><sheetData>{header}{line}{extra}'
        "</sheetData></worksheet>"
    ).encode()


def _far_cell() -> bytes:
    """A stray cell far from the table and no `<dimension>` saying so: calamine would
    allocate the whole range (90,000 x 16,384 cells) and abort the process."""
    far = '<row r="90000"><c r="XFD90000" t="inlineStr"><is><t>far</t></is></c></row>'
    return xlsx(_plain_sheet(far))


@pytest.mark.parametrize(
    ("name", "build", "errors"),
    [
        ("zip bomb", lambda: _corpus("zip-bomb.xlsx"), (DocumentTooLarge,)),
        ("lying zip sizes", lambda: _corpus("zip-bomb-lying-size.xlsx"), (CorruptDocument,)),
        ("huge dimension claim", lambda: _corpus("huge-dimension.xlsx"), (DocumentTooLarge,)),
        ("truncated zip", lambda: manifest_xlsx()[:700], (CorruptDocument, UnsupportedDocument)),
        ("DTD", lambda: _corpus("xxe-general.xlsx"), (CorruptDocument,)),
    ],
)
def test_hostile_workbooks_are_refused_with_a_reason_and_the_parent_survives(name, build, errors):
    data = build()
    parent = os.getpid()
    with pytest.raises(InputError) as refused:
        extract_sandboxed(data, filename=f"{name}.xlsx")
    assert isinstance(refused.value, errors), f"{name}: {refused.value!r}"
    message = str(refused.value)
    assert any(words in message for words in _ACTIONABLE), f"{name}: {message}"
    assert os.getpid() == parent
    good = extract_sandboxed(manifest_xlsx(), filename="good.xlsx")  # the parent reads on
    assert [c.raw for line in good.lines for c in line.codes]


def test_a_sheet_without_its_dimension_is_read_by_the_streaming_reader_in_any_process():
    # the registry import and `gateway extract` read in their own process: no abort there
    for read in (extract, lambda data: extract_sandboxed(data, filename="far.xlsx")):
        far = read(_far_cell())
        assert [c.raw for line in far.lines for c in line.codes] == [f"(01){GTIN}(21)D1"]


def _measured(sheet: bytes, limits: Limits = DEFAULT_LIMITS) -> bool:
    with zipfile.ZipFile(io.BytesIO(xlsx(sheet))) as zf:
        return cells_within_limits(zf, "xl/worksheets/sheet1.xml", limits)


def test_a_sheet_without_its_dimension_goes_to_calamine_only_when_its_cells_fit_the_limits():
    assert _measured(_plain_sheet())
    # a workbook written by openpyxl's write-only mode has no dimension: read by calamine
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Packing List")
    ws.append(["No.", "Battery code", "Qty"])
    ws.append([1, f"(01){GTIN}(21)W1", 1])
    out = io.BytesIO()
    wb.save(out)
    assert _grids(out.getvalue(), compiled=None) == _grids(out.getvalue(), compiled=False)
    with zipfile.ZipFile(out) as zf:
        assert cells_within_limits(zf, "xl/worksheets/sheet1.xml", DEFAULT_LIMITS)
    far_row = '<row r="100001"><c r="A100001" t="inlineStr"><is><t>far</t></is></c></row>'
    no_ref = '<row r="3"><c t="inlineStr"><is><t>counted</t></is></c></row>'
    unplaced_row = '<row><c r="A4" t="inlineStr"><is><t>counted</t></is></c></row>'
    later_ref = '<row r="3"><c t="inlineStr" r="A3"><is><t>x</t></is></c></row>'
    for extra in (far_row, no_ref, unplaced_row, later_ref):
        assert not _measured(_plain_sheet(extra)), extra
    assert not _measured(_plain_sheet().replace(b'r="A1"', b'r="GS1"'))  # column 201
    assert not _measured(_plain_sheet(), Limits(max_rows=1))
    assert not _measured(_plain_sheet(), Limits(max_columns=4))
    assert _measured(_plain_sheet(), Limits(max_rows=2, max_columns=5))
    prefixed = _plain_sheet().replace(b"<row", b"<x:row").replace(b"</row", b"</x:row")
    assert not _measured(prefixed)


def test_deep_xml_and_a_shared_string_bomb_are_read_within_the_limits():
    deep = extract_sandboxed(_deep_xml(), filename="deep.xlsx")
    assert [c.raw for line in deep.lines for c in line.codes] == [f"(01){GTIN}(21)D1"]
    # one 32,000-character string in 200,000 cells: calamine would copy it into every cell
    # (6.4 GB); the workbook goes to the streaming reader, which shares one string
    bomb = extract_sandboxed(_corpus("shared-string-bomb.xlsx"), filename="bomb.xlsx")
    assert not any(line.codes for line in bomb.lines)
