"""The table reader's fast records (`gateway.parsers.records`) are the records themselves,
and the lines read column by column are the lines read row by row."""

from __future__ import annotations

import dataclasses
import io
import pickle

import pytest
from openpyxl import Workbook

from gateway.domain import CodeOccurrence, ExtractionMethod, ManifestLine, SourceRef
from gateway.parsers import extract
from gateway.parsers.records import code_occurrence, manifest_line, source_ref

GTIN = "06901234567892"

REF_VALUES = [
    ("doc-1", None, "Packing List", 12, "C12", None, "11"),
    ("doc-2", 3, None, None, None, (1.0, 2.5, 30.0, 41.0), None),
    ("", None, None, None, None, None, None),
]


def _fields(record: object) -> tuple[object, ...]:
    return tuple(getattr(record, f.name) for f in dataclasses.fields(record))  # type: ignore[arg-type]


@pytest.mark.parametrize("values", REF_VALUES)
def test_fast_source_ref_is_the_record(values: tuple[object, ...]) -> None:
    fast, normal = source_ref(*values), SourceRef(*values)  # type: ignore[arg-type]
    assert type(fast) is SourceRef
    assert fast == normal
    assert hash(fast) == hash(normal)
    assert repr(fast) == repr(normal)
    assert _fields(fast) == values
    assert pickle.loads(pickle.dumps(fast)) == normal
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.cell = "D12"  # type: ignore[misc]


def test_fast_code_occurrence_and_line_are_the_records() -> None:
    ref = SourceRef("doc-1", None, "S", 4, "L4", None, "3")
    quad = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    occ_values = (f"(01){GTIN}(21)A1", ref, ExtractionMethod.CELL, "]d2", quad, 0.5)
    fast_occ = code_occurrence(*occ_values)
    assert type(fast_occ) is CodeOccurrence
    assert fast_occ == CodeOccurrence(*occ_values)
    assert hash(fast_occ) == hash(CodeOccurrence(*occ_values))

    line_values = (
        ref, "3", "Battery module", "M-1", 2.0, "PCS", "L1", "85076000", "UN3480", 10.5,
        12.0, "C1", "P1", "CNTR1", "DE", {"origin": "CN"}, (fast_occ,), {"lot": ref},
    )  # fmt: skip
    fast_line = manifest_line(*line_values)
    normal = ManifestLine(*line_values)
    assert type(fast_line) is ManifestLine
    assert fast_line == normal
    assert repr(fast_line) == repr(normal)
    assert _fields(fast_line) == line_values
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast_line.lot = "L2"  # type: ignore[misc]


def _workbook() -> bytes:
    wb = Workbook(write_only=True)  # no <dimension>: the sheet is measured, then calamine
    ws = wb.create_sheet("PL")
    ws.append(["Destination:", "Germany"])
    ws.append(["No.", "Description", "Goods", "Qty", "G.W. (kg)", "Origin", "Destination",
               "Battery code", "Serial No.", "Unit Price"])  # fmt: skip
    ws.append([1, "Battery module", None, 1, 12.5, "CN", "PL", f"(01){GTIN}(21)A1", None])
    ws.append([2, None, "Cell pack", "a few", "heavy", None, "Atlantis", "ABCD12345678XYZ",
               "6.90123E+12", "USD 12"])  # fmt: skip
    ws.append([None, None, None, None, None, None, None, f"(01){GTIN}(21)A3"])  # continues 2
    ws.append([3, "Battery module", None, "x", None, None, None, "05APB0WEVSLC9CR661240003"])
    ws.append(["TOTAL", None, None, 3])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_lines_read_from_a_workbook_are_the_records_their_class_builds() -> None:
    ex = extract(_workbook(), filename="pl.xlsx")
    assert [line.line_no for line in ex.lines] == ["1", "2", "3"]
    for line in ex.lines:
        rebuilt = ManifestLine(*_fields(line))  # type: ignore[arg-type]
        assert line == rebuilt
        assert type(line.source) is SourceRef
        assert all(type(code) is CodeOccurrence for code in line.codes)
        assert all(type(ref) is SourceRef for ref in line.field_sources.values())
    first, second, third = ex.lines
    assert (first.description, first.quantity, first.gross_kg, first.destination) == (
        "Battery module", 1.0, 12.5, "PL",
    )  # fmt: skip
    assert first.extra == {"origin": "CN"}
    # the second description column, numbers that state none, the document's destination
    # for a country nobody knows, and the continuation row's code
    assert second.description == "Cell pack"
    assert (second.quantity, second.gross_kg) == (None, None)
    assert list(second.extra.items()) == [
        ("quantity_raw", "a few"), ("gross_kg_raw", "heavy"), ("unit_price", "USD 12"),
    ]  # fmt: skip
    assert second.destination == "DE"
    assert [c.raw for c in second.codes] == [f"(01){GTIN}(21)A3"]
    assert {name: ref.cell for name, ref in second.field_sources.items()} == {
        "description": "C4", "quantity": "D4", "gross_kg": "E4", "unit_price": "J4",
    }  # fmt: skip
    assert list(first.field_sources) == ["description", "quantity", "gross_kg", "origin",
                                         "destination"]  # fmt: skip
    assert third.destination == "DE"
    assert third.field_sources["quantity"].cell == "D6"


def test_a_lines_problems_keep_the_order_of_its_row() -> None:
    """Possible codes of a row, then its fields' problems, then destroyed identifiers."""
    ex = extract(_workbook(), filename="pl.xlsx")
    found = [(p.kind, p.line_no, p.source.cell if p.source else None) for p in ex.problems]
    assert found == [
        ("possible_code", "2", "H4"),
        ("destination_unknown", "2", "G4"),
        ("identifier_destroyed_in_document", "2", "I4"),
    ]
