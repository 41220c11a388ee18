"""Label photos are read for barcodes wherever they enter, and judged the same everywhere.

Photos uploaded with a shipment (CLI, API, web page) and photos posted to `/v1/scans` go
through one reader and one judgement per code.
"""

from __future__ import annotations

import pytest

from samples.shipments import label_photo
from tests.e2e.shipments import BAD_GTIN, GTIN, HEADER_DE, document, packs, registry, row, shipment

pytestmark = [pytest.mark.integration]

GTIN_ONLY = label_photo([("gs1-128", f"(01){GTIN}")])
BAD_CHECK = label_photo([("gs1-128", f"(01){BAD_GTIN}(21)PK0002")])
EAN13 = label_photo([("ean13", GTIN[1:])])  # the GTIN-13 of the pack as a retail barcode
UNIT = label_photo([("gs1-128", f"(01){GTIN}(21)PK0001")])


def _photos_shipment():
    return shipment(
        "label-photos-gtin-only-and-bad-check-digit",
        [
            document("xlsx", "packing_list", HEADER_DE, [row(1, "PK0001")]),
            ("label_gtin_only.png", GTIN_ONLY),
            ("label_bad_check.png", BAD_CHECK),
        ],
        registry=registry(packs("PK0001", "PK0002")),
    )


def test_gtin_only_and_bad_check_digit_labels_are_reported(doors):
    result = doors.check(_photos_shipment())
    on_bad = [f for f in result.findings if f.document == "label_bad_check.png"]
    assert "CHECK_DIGIT_INVALID" in {f.code for f in on_bad}, result.summary()
    on_gtin_only = [
        f for f in result.findings if f.document == "label_gtin_only.png" and f.severity != "info"
    ]
    assert on_gtin_only, f"the GTIN-only label gave nothing:\n{result.summary()}"
    assert result.verdict == "block"


def test_scans_judge_the_labels_as_the_shipment_check_does(doors):
    results = doors.each(_photos_shipment())
    differ = []
    for photo, name in ((BAD_CHECK, "label_bad_check.png"), (GTIN_ONLY, "label_gtin_only.png")):
        scanned = doors.scan(photo, registry=registry(packs("PK0001", "PK0002")))
        assert scanned.counts["codes"] == 1, scanned.report
        in_scan = {(f.code, f.severity) for f in scanned.findings if f.severity != "info"}
        for door, result in results.items():
            in_check = {
                (f.code, f.severity)
                for f in result.findings
                if f.document == name and f.severity != "info"
            }
            if in_check != in_scan:
                differ.append(f"{name}: scans {sorted(in_scan)}, {door} {sorted(in_check)}")
    assert not differ, "\n".join(differ)


def test_label_photos_uploaded_with_a_packing_list_are_read(doors):
    result = doors.check(
        shipment(
            "packing-list-with-a-label-photo",
            [
                document("xlsx", "packing_list", HEADER_DE, [row(1, "PK0001")]),
                ("label_PK0001.png", UNIT),
            ],
            registry=registry(packs("PK0001")),
        )
    )
    assert result.counts["codes"] == 2, result.summary()  # the list's code and the label's
    assert result.counts["units"] == 1, result.summary()  # of one battery
    assert not [f for f in result.about("No battery identifiers") if "png" in f.document]
    assert not result.at("DOCUMENT_REJECTED"), result.summary()


def test_an_ean13_label_is_judged_the_same_by_check_and_scans(doors):
    label = shipment(
        "ean13-label", [("label_ean13.png", EAN13)], registry=registry(packs("PK0001"))
    )
    scanned = doors.scan(EAN13, registry=registry(packs("PK0001")))
    ean = GTIN[1:]
    in_scan = {(f.code, f.severity) for f in scanned.findings}
    assert in_scan, scanned.report
    differ = []
    for door, result in doors.each(label).items():
        in_check = {(f.code, f.severity) for f in result.findings if f.raw and ean in f.raw}
        if in_check != in_scan:
            differ.append(f"scans {sorted(in_scan)}, {door} {sorted(in_check)}")
    assert not differ, "\n".join(differ)
    assert "UNKNOWN_AI" not in {c for c, _ in in_scan}
    doors.check(label)  # and the three doors agree
