"""Facts typed next to the upload or printed above the table, through every door."""

from __future__ import annotations

import pytest

from tests.e2e.shipments import GTIN, HEADER_DE, document, packs, registry, row, shipment

pytestmark = [pytest.mark.integration]

SERIALS = ("PK0001", "PK0002")


@pytest.mark.parametrize("typed", ["Germany", "德国"])
def test_a_destination_typed_as_a_name_is_that_country(doors, typed):
    result = doors.check(
        shipment(
            f"destination-{typed}",
            [document("xlsx", "packing_list", HEADER_DE, [row(1, s) for s in SERIALS])],
            registry=registry(packs(*SERIALS)),
            destination=typed,
        )
    )
    assert result.destination == "DE", result.summary()
    assert not result.at("DESTINATION_MISMATCH"), result.summary()


DECLARATION = HEADER_DE["declaration_elements"]
TITLE_BLOCKS = {
    "en": {
        "Shipper": HEADER_DE["shipper"],
        "Consignee": "Example Energy GmbH, Hamburg",
        "Consignee EORI No.": "DE123456789012345",
        "Destination": "DE",
        "Invoice No.": "INV-2026-1120",
        "DG Packaging Certificate No.": "CIQ-DG-2026-0815",
        "UN38.3 Test Summary": "UN383-EVP75-2026",
        "SDS No.": "SDS-EVP75-2026",
        "DG Declaration No.": "DGD-2026-1120",
        "Declaration Elements": DECLARATION,
    },
    "zh": {
        "发货人": HEADER_DE["shipper"],
        "收货人": "Example Energy GmbH, Hamburg",
        "收货人EORI号": "DE123456789012345",
        "目的国": "DE",
        "发票号": "INV-2026-1120",
        "危包证编号": "CIQ-DG-2026-0815",
        "UN38.3测试概要": "UN383-EVP75-2026",
        "安全技术说明书编号": "SDS-EVP75-2026",
        "危险货物申报单号": "DGD-2026-1120",
        "申报要素": DECLARATION,
    },
}
MISSING = {
    "DG_PACKAGING_CERT_MISSING",
    "EU_EORI_MISSING",
    "UN38_3_SUMMARY_MISSING",
    "SDS_REFERENCE_MISSING",
    "DG_DECLARATION_NOT_PROVIDED",
    "DECLARATION_ELEMENTS_NOT_PROVIDED",
}


@pytest.mark.parametrize(("lang", "fmt"), [("en", "xlsx"), ("zh", "csv")])
def test_title_block_facts_are_read(doors, lang, fmt):
    # the registry knows no UN38.3 summary: only the document states it
    records = packs(*SERIALS, un38_3_summary_ref=None)
    result = doors.check(
        shipment(
            f"title-block-{lang}-{fmt}",
            [document(fmt, "packing_list", TITLE_BLOCKS[lang], [row(1, s) for s in SERIALS])],
            registry=registry(records),
        )
    )
    assert not (result.codes() & MISSING), result.summary()
    assert GTIN in DECLARATION
