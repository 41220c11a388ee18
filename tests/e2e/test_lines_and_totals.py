"""Totals rows, units and quantities as the documents state them, through every door."""

from __future__ import annotations

import dataclasses

import pytest

from samples.shipments import COLUMNS, Row, pack_record
from tests.e2e.shipments import (
    FIRST_ROW,
    GROSS,
    HEADER_DE,
    QTY,
    code,
    document,
    gb_code_of,
    packs,
    registry,
    row,
    shipment,
)

pytestmark = [pytest.mark.integration]

SERIALS = ("PK0001", "PK0002", "PK0003")


def _totals(gross: float) -> Row:
    return Row(
        line_no="",
        description="合计 TOTAL",
        model="",
        quantity=3,
        lot="",
        hs_code="",
        un_number="",
        net_kg=1350.0,
        gross_kg=gross,
        codes=(),
    )


def _with_totals(fmt: str, gross: float):
    rows = [row(i, serial) for i, serial in enumerate(SERIALS, start=1)]
    return shipment(
        f"totals-{gross:g}-{fmt}",
        [document(fmt, "packing_list", HEADER_DE, [*rows, _totals(gross)])],
        registry=registry(packs(*SERIALS)),
    )


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_totals_row_whose_gross_differs_from_the_lines_is_a_finding(doors, fmt):
    result = doors.check(_with_totals(fmt, gross=1500.0))  # the lines sum to 1440 kg
    totals_row = FIRST_ROW + len(SERIALS)
    on_totals = [f for f in result.findings if f.row == totals_row and f.severity != "info"]
    assert on_totals, result.summary()
    assert result.verdict != "clear"


def test_a_totals_row_that_matches_is_no_line_and_no_finding(doors):
    result = doors.check(_with_totals("xlsx", gross=1440.0))
    assert result.counts["lines"] == len(SERIALS), result.summary()
    assert result.verdict == "clear", result.summary()


def test_a_pack_listed_with_its_gs1_and_gbt_codes_is_one_unit(doors):
    gb = gb_code_of(1)
    record = pack_record("PK0001", gb_code=gb, gb_code_scheme="gb34014")
    result = doors.check(
        shipment(
            "one-pack-two-identifiers",
            [
                document(
                    "xlsx",
                    "packing_list",
                    HEADER_DE,
                    [row(1, "PK0001", codes=(code("PK0001"), gb))],
                )
            ],
            registry=registry([record]),
        )
    )
    assert not result.at("QUANTITY_CODE_COUNT_MISMATCH"), result.summary()
    assert result.counts["units"] == 1, result.summary()
    assert result.counts["codes"] == 2


INVOICE_COLUMNS = tuple(
    c
    for c in COLUMNS
    if c[0] in ("line_no", "description", "model", "quantity", "hs_code", "codes")
)
INVOICE_HEADER = {
    "shipper": HEADER_DE["shipper"],
    "consignee": "Example Energy GmbH, Hamburg",  # the EORI is stated on the packing list only
    "destination": "DE",
    "invoice_no": HEADER_DE["invoice_no"],
}
TEN = tuple(f"PK{n:04d}" for n in range(1, 11))


def _invoice_and_packing_list():
    rows = [row(i, serial) for i, serial in enumerate(TEN, start=1)]
    invoice_rows = [dataclasses.replace(r, un_number="", net_kg=0.0, gross_kg=0.0) for r in rows]
    return shipment(
        "invoice-and-packing-list",
        [
            document(
                "xlsx",
                "invoice",
                INVOICE_HEADER,
                invoice_rows,
                columns=INVOICE_COLUMNS,
                title="COMMERCIAL INVOICE 商业发票",
            ),
            document("xlsx", "packing_list", HEADER_DE, rows),
        ],
        registry=registry(packs(*TEN)),
    )


def test_units_on_an_invoice_and_a_packing_list_count_once(doors):
    result = doors.check(_invoice_and_packing_list())
    assert result.counts["units"] == len(TEN), result.summary()
    assert not result.at("DUPLICATE_UNIT_CODE"), result.summary()


def test_facts_on_the_packing_list_satisfy_the_invoice_lines(doors):
    result = doors.check(_invoice_and_packing_list())
    missing = {"UN_NUMBER_MISSING", "REQUIRED_FIELD_MISSING", "EU_EORI_MISSING"}
    assert not (result.codes() & missing), result.summary()
    assert result.verdict == "clear", result.summary()


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_impossible_numbers_are_findings_at_their_cells(doors, fmt):
    rows = [
        row(1, "PK0001"),
        row(2, "PK0002", quantity="1e400"),
        row(3, "PK0003", quantity=-1),
        row(4, "PK0004", quantity=1.5),
        row(5, "PK0005", gross_kg=4.8e9),
    ]
    result = doors.check(
        shipment(
            f"impossible-numbers-{fmt}",
            [document(fmt, "packing_list", HEADER_DE, rows)],
            registry=registry(packs("PK0001", "PK0002", "PK0003", "PK0004", "PK0005")),
        )
    )
    flagged = {f.where for f in result.findings if f.severity != "info"}
    cells = {
        f"{QTY}{FIRST_ROW + 1}",  # 1e400
        f"{QTY}{FIRST_ROW + 2}",  # a negative count
        f"{QTY}{FIRST_ROW + 3}",  # half a battery
        f"{GROSS}{FIRST_ROW + 4}",  # 4.8 million tonnes
    }
    assert cells <= flagged, f"not flagged: {sorted(cells - flagged)}\n{result.summary()}"
    assert result.verdict != "clear"
