"""Every code in a document is reported, through the CLI, the API and the web page.

A code with a wrong check digit in a manifest cell is blocked at its cell in XLSX, CSV and
text PDF; GS1 HRI printed with spaces after the AI is read or reported as a possible code.
"""

from __future__ import annotations

import pytest

from tests.e2e.shipments import (
    BAD_GTIN,
    CODES,
    FIRST_ROW,
    GTIN,
    HEADER_DE,
    ascii_row,
    code,
    document,
    packs,
    registry,
    row,
    shipment,
)

pytestmark = [pytest.mark.integration]


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "pdf"])
def test_a_wrong_check_digit_in_a_cell_blocks_at_that_cell(doors, fmt):
    make = ascii_row if fmt == "pdf" else row
    rows = [make(1, "PK0001"), make(2, "PK0002", codes=(code("PK0002", BAD_GTIN),))]
    result = doors.check(
        shipment(
            f"check-digit-{fmt}",
            [document(fmt, "packing_list", HEADER_DE, rows)],
            registry=registry(packs("PK0001", "PK0002")),
        )
    )
    found = result.at("CHECK_DIGIT_INVALID")
    assert found, result.summary()
    assert {f.severity for f in found} == {"block"}
    assert result.verdict == "block"
    where = {f.where for f in found}
    # the cell of line 2's codes (the same row in the CSV copy); in a PDF, line 2 of page 1
    assert where == ({"p1 l2"} if fmt == "pdf" else {f"{CODES}{FIRST_ROW + 1}"}), result.summary()
    assert not result.at("LINES_WITHOUT_CODES"), result.summary()
    assert result.counts["codes"] == 2
    assert result.counts["codes_invalid"] == 1


def test_hri_with_spaces_in_pdf_text_is_a_code_or_a_possible_code(doors):
    from samples.shipments import text_pdf

    lines = [
        "01 09506000134352 Widget 10 pcs",
        f"(01) {GTIN} (21) PK0001 Lithium-ion battery pack 1 pc",
    ]
    result = doors.check(
        shipment(
            "hri-with-spaces",
            [("delivery_note.pdf", text_pdf(lines, title="DELIVERY NOTE"))],
            registry=registry(packs("PK0001")),
        )
    )
    for gtin in ("09506000134352", GTIN):
        reported = result.about(gtin) or [u for u in result.units if gtin in str(u.get("key"))]
        assert reported, f"{gtin} vanished:\n{result.summary()}"
