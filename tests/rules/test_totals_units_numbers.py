"""Stated totals, units as records, facts shared by documents, guarded numbers, country names:
the rules on hand-built records."""

from __future__ import annotations

import pytest

from gateway.domain import (
    CodeOccurrence,
    Document,
    Extraction,
    ExtractionMethod,
    LookupStatus,
    Severity,
    SourceRef,
)
from gateway.pipeline import ShipmentFacts, check_codes
from gateway.platform_client.local import InMemoryRegistry
from gateway.rules.manifest import country_of
from samples.shipments import FIXED_CLOCK, pack_record
from tests.rules.rule_factories import (
    DOC,
    GB_RAW,
    codes,
    context,
    gb_item,
    item,
    line,
    record,
    run,
    sgtin,
)

INVOICE = Document(id="doc-2", filename="invoice.xlsx", media_type="application/xlsx", sha256="2")


# --- stated totals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ({"total_quantity": "2"}, []),
        ({"total_quantity": "3", "total_quantity_cell": "D12"}, ["QUANTITY_TOTAL_MISMATCH"]),
        ({"total_packages": "2"}, []),  # the packages column adds up to 2
        ({"total_packages": "1"}, []),  # one distinct carton: counted the other way
        ({"total_packages": "5"}, ["PACKAGE_TOTAL_MISMATCH"]),
    ],
)
def test_stated_quantity_and_packages_equal_the_lines(header, expected):
    lines = (
        line(8, carton="C1", extra={"packages": "1"}),
        line(9, carton="C1", extra={"packages": "1"}),
    )
    extraction = Extraction(document=DOC, header={**header, "totals_sheet": "PL"}, lines=lines)
    findings = run("manifest.totals", context(extractions=[extraction]))
    assert codes(findings) == expected
    if "QUANTITY_TOTAL_MISMATCH" in expected:
        assert findings[0].severity is Severity.BLOCK
        assert findings[0].refs[0] == SourceRef(document_id="doc-1", sheet="PL", cell="D12")
    if "PACKAGE_TOTAL_MISMATCH" in expected:
        assert findings[0].severity is Severity.WARN


def test_a_sheets_totals_cover_the_lines_of_that_sheet():
    other = line(20, source=SourceRef(document_id="doc-1", sheet="Annex", row=20))
    lines = (line(8), line(9), other)
    header = {"total_net_kg": "900", "total_quantity": "2", "totals_sheet": "PL"}
    extraction = Extraction(document=DOC, header=header, lines=lines)
    ctx = context(extractions=[extraction])
    assert run("manifest.weights", ctx) == []
    assert run("manifest.totals", ctx) == []


def test_a_totals_ref_names_the_page_and_box_of_a_pdf_row():
    header = {"total_gross_kg": "1000", "totals_page": "2", "totals_box": "32,66,521,72"}
    extraction = Extraction(document=DOC, header=header, lines=(line(8), line(9)))
    (finding,) = run("manifest.weights", context(extractions=[extraction]))
    assert finding.code == "WEIGHT_TOTAL_MISMATCH"
    assert (finding.refs[0].page, finding.refs[0].bbox) == (2, (32.0, 66.0, 521.0, 72.0))


# --- units ---------------------------------------------------------------------------------


def test_a_gs1_and_a_gb_code_of_one_record_are_one_unit_on_a_line():
    rec = record("SN1", gb_code=GB_RAW)
    on = line(quantity=1.0)
    items = [item(sgtin("SN1"), rec=rec, on=on), gb_item(rec=rec, on=on)]
    assert items[0].unit == items[1].unit == "record:R-SN1"
    assert run("manifest.quantity", context(items)) == []


def test_two_codes_without_a_record_are_two_units():
    on = line(quantity=1.0)
    items = [item(sgtin("SN1"), status=LookupStatus.NOT_FOUND, on=on),
             gb_item(status=LookupStatus.NOT_FOUND, on=on)]  # fmt: skip
    assert codes(run("manifest.quantity", context(items))) == ["QUANTITY_CODE_COUNT_MISMATCH"]


def test_one_record_on_two_lines_of_one_document_is_a_duplicate():
    rec = record("SN1", gb_code=GB_RAW)
    items = [item(sgtin("SN1"), rec=rec, on=line(8)), gb_item(rec=rec, on=line(9))]
    (finding,) = run("manifest.duplicates", context(items))
    assert finding.code == "DUPLICATE_UNIT_CODE"
    assert finding.evidence["key"] == items[0].key


def test_codes_that_are_not_units_have_no_unit():
    assert item(f"(01){sgtin('X')[4:18]}", on=line()).unit is None  # GTIN only


# --- facts stated by another document for the same units ------------------------------------


def _invoice_and_packing_list(*, packing_un: str | None = "UN3480"):
    invoice_line = line(8, un_number=None, net_kg=None, gross_kg=None)
    packing_line = line(8, un_number=packing_un)
    items = [
        item(sgtin("SN1"), on=invoice_line, document=INVOICE),
        item(sgtin("SN1"), on=packing_line),
    ]
    extractions = [
        Extraction(document=INVOICE, header={"consignee": "Example GmbH"}, lines=(invoice_line,)),
        Extraction(
            document=DOC,
            header={"shipper": "S", "consignee": "Example GmbH (EORI DE123456789)"},
            lines=(packing_line,),
        ),
    ]
    return context(items, extractions=extractions), invoice_line


def test_a_line_states_a_field_another_document_gives_for_its_units():
    ctx, invoice_line = _invoice_and_packing_list()
    assert ctx.line_states(invoice_line, "un_number")
    assert ctx.line_states(invoice_line, "net_kg")
    assert not ctx.line_states(line(8, un_number=None), "un_number")  # no codes, no sharing
    assert run("dangerous_goods.un_number", ctx) == []
    assert run("manifest.required_fields", ctx) == []
    assert run("eu.eori", ctx) == []  # the EORI is in the second document's consignee


def test_a_field_no_document_gives_for_the_unit_is_missing():
    ctx, invoice_line = _invoice_and_packing_list(packing_un=None)
    assert not ctx.line_states(invoice_line, "un_number")
    (finding,) = run("dangerous_goods.un_number", ctx)
    assert (finding.code, finding.evidence["count"]) == ("UN_NUMBER_MISSING", 2)


# --- numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected", "severity"),
    [
        ({}, [], None),
        ({"extra": {"quantity_raw": "1e400"}, "quantity": None}, ["NUMBER_INVALID"], "block"),
        ({"extra": {"net_kg_raw": "-inf"}, "net_kg": None}, ["NUMBER_INVALID"], "block"),
        ({"extra": {"quantity_raw": "abc"}, "quantity": None}, ["NUMBER_INVALID"], "warn"),
        ({"gross_kg": -1.0}, ["NUMBER_INVALID", "NET_EXCEEDS_GROSS"], "block"),
        ({"quantity": 2.5}, ["QUANTITY_NOT_WHOLE"], "warn"),
        ({"quantity": 2.5, "unit": "kg"}, [], None),
        ({"quantity": 1_000_001.0}, ["NUMBER_IMPLAUSIBLE"], "warn"),
        ({"net_kg": 100_001.0, "gross_kg": 100_500.0}, ["NUMBER_IMPLAUSIBLE"] * 2, "warn"),
    ],
)
def test_numbers_table(fields, expected, severity):
    ctx = context(lines=[line(**fields)])
    findings = run("manifest.numbers", ctx) + run("manifest.weights", ctx)
    assert sorted(codes(findings)) == sorted(expected)
    if severity:
        assert findings[0].severity == severity
        assert findings[0].refs[0].line == "1"


def test_number_limits_come_from_the_ruleset():
    ctx = context(lines=[line(quantity=500.0)])
    override = {"rules": {"manifest.numbers": {"params": {"max_quantity_per_line": 100}}}}
    assert codes(run("manifest.numbers", ctx, override)) == ["NUMBER_IMPLAUSIBLE"]


# --- countries written as names ------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ({"destination": "日本"}, ["DESTINATION_INCONSISTENT"]),  # JP named, DE on the line
        ({"destination": "德国"}, []),
        ({"destination": "Germany (DE)"}, []),
        ({"destination": "Hamburg, DE"}, []),
        ({"destination": "XQ"}, ["COUNTRY_CODE_INVALID"]),
        ({"destination": "Atlantis"}, ["COUNTRY_CODE_INVALID"]),
    ],
)
def test_places_read_country_names(header, expected):
    ctx = context(lines=[line(destination="DE")], header=header, destination=None)
    findings = run("manifest.places", ctx)
    assert codes(findings) == expected
    if header["destination"] == "Atlantis":
        assert findings[0].severity is Severity.INFO  # the line gives the destination
    if header["destination"] == "XQ":
        assert findings[0].severity is Severity.BLOCK


def test_the_destination_of_the_documents_is_read_from_a_name():
    ctx = context(lines=[line(destination=None)], header={"destination": "最终目的国 日本"})
    assert ctx.destination() == "JP"


@pytest.mark.parametrize(
    ("text", "code"),
    [("Rotterdam, NL", "NL"), ("Hamburg / DE", "DE"), ("Hamburg", None), ("ZZ", None)],
)
def test_country_of(text, code):
    assert country_of(text) == code


def test_a_totals_rows_packages_are_the_documents_packages_for_the_dg_comparison():
    def doc(doc_id: str, total: str) -> Extraction:
        document = Document(id=doc_id, filename=f"{doc_id}.xlsx", media_type="x", sha256=doc_id)
        header = {"total_packages": total, "dg_declaration": "DGD-1"}
        lines = (line(8, extra={"packages": "1"}), line(9, extra={"packages": "1"}))
        return Extraction(document=document, header=header, lines=lines)

    same = context(extractions=[doc("pl", "2"), doc("dgd", "2")])
    assert run("dangerous_goods.declaration", same) == []
    # the DG declaration's totals row says 3 packages where the packing list says 2
    differ = context(extractions=[doc("pl", "2"), doc("dgd", "3")])
    (finding,) = run("dangerous_goods.declaration", differ)
    assert finding.evidence["field"] == "packages"


@pytest.mark.parametrize(
    ("raws", "duplicate"),
    [
        (["gs1", "gb"], False),  # the two codes of one pack, posted together
        (["gs1", "gs1"], True),  # the same code posted twice
        (["gs1", "gb", "gb"], True),
    ],
)
def test_posted_codes_of_one_record_are_one_listing_per_key(raws, duplicate):
    rec = pack_record("PK0001", gb_code=GB_RAW)
    text = {"gs1": rec.gs1_element_string or "", "gb": GB_RAW}
    codes_ = [CodeOccurrence(text[r], SourceRef("label"), ExtractionMethod.INPUT) for r in raws]
    report = check_codes(
        codes_,
        platform=InMemoryRegistry([rec]),
        facts=ShipmentFacts(shipment_id="s", destination="DE"),
        clock=lambda: FIXED_CLOCK,
    )
    assert ("DUPLICATE_UNIT_CODE" in {f.code for f in report.findings}) is duplicate
    assert report.counts["units"] == 1


@pytest.mark.parametrize(
    ("lines", "total", "expected"),
    [
        # weights per piece: 2 x 450 + 3 x 450 = 2250
        ((line(8, quantity=2.0), line(9, quantity=3.0)), "2250", []),
        ((line(8, quantity=2.0), line(9, quantity=3.0)), "2300", ["WEIGHT_TOTAL_MISMATCH"]),
        # a line whose weight is no number: the sum cannot be judged, the number rule speaks
        ((line(8), line(9, net_kg=None, extra={"net_kg_raw": "1e400"})), "2000", []),
    ],
)
def test_weight_totals_per_piece_and_unreadable_lines(lines, total, expected):
    extraction = Extraction(document=DOC, header={"total_net_kg": total}, lines=lines)
    assert codes(run("manifest.weights", context(extractions=[extraction]))) == expected


def test_a_destination_in_words_warns_when_nothing_else_gives_one():
    ctx = context(
        lines=[line(destination=None)], header={"destination": "Atlantis"}, destination=None
    )
    (finding,) = run("manifest.places", ctx)
    assert (finding.code, finding.severity) == ("COUNTRY_CODE_INVALID", Severity.WARN)
