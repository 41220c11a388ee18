"""Shipments read from their own documents: totals rows, units, shared facts, numbers, places.

Each test writes the documents a forwarder sends (xlsx with openpyxl, CSV with csv, a text PDF
with reportlab), reads them through `gateway.parsers.extract` inside `check_shipment`, and
looks the codes up in an `InMemoryRegistry`.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import zipfile
from collections.abc import Sequence
from typing import Any

import pytest
from openpyxl import Workbook

from gateway.domain import Finding, Report, Severity, Verdict
from gateway.parsers import extract
from gateway.pipeline import DocumentInput, ShipmentFacts, check_shipment
from gateway.platform_client.local import InMemoryRegistry
from samples.shipments import FIXED_CLOCK, GTIN_PACK, pack_record
from tests.factories import shipment_document

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["No.", "Description", "Model", "Qty", "Lot No.", "HS Code", "UN No.", "N.W. (kg)",
          "G.W. (kg)", "Battery Code"]  # fmt: skip
TITLE = [
    ["PACKING LIST 装箱单"],
    ["Shipper 发货人:", "Shanghai Example Power Co., Ltd."],
    ["Consignee 收货人:", "Example Energy GmbH, Hamburg (EORI DE123456789012345)"],
    ["Destination 目的国:", "DE"],
    ["危包证 DG Packaging Cert: CIQ-DG-2026-0815"],
    ["MSDS No.: SDS-EVP75-2026"],
    ["DG Declaration No.: DGD-2026-1120"],
    [],
]


def gb_code(n: int) -> str:
    """A GB/T 34014 pack code (manufacturer ABC, NCM pack) with serial `n`."""
    return f"ABCPE0110000011B1{n:07d}"


def sgtin(serial: str) -> str:
    return f"(01){GTIN_PACK}(21){serial}"


def row(n: int, **changes: Any) -> list[Any]:
    """One line of the packing list: pack PK000n, 1 pc, 450 kg net, 480 kg gross."""
    values: dict[str, Any] = {
        "No.": n,
        "Description": "Lithium-ion battery pack 锂离子电池包",
        "Model": "EVP-75",
        "Qty": 1,
        "Lot No.": "L2609A",
        "HS Code": "8507600020",
        "UN No.": "UN3480",
        "N.W. (kg)": 450,
        "G.W. (kg)": 480,
        "Battery Code": sgtin(f"PK{n:04d}"),
    }
    values.update(changes)
    return [values.get(h) for h in HEADER]


def xlsx(
    rows: Sequence[Sequence[Any]],
    *,
    title: Sequence[Sequence[Any]] = TITLE,
    header: Sequence[str] = HEADER,
    after: Sequence[Sequence[Any]] = (),
) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "PL"
    for r in [*title, list(header), *rows, *after]:
        ws.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_bytes(
    rows: Sequence[Sequence[Any]],
    *,
    title: Sequence[Sequence[Any]] = TITLE,
    header: Sequence[str] = HEADER,
    after: Sequence[Sequence[Any]] = (),
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    # exports write no empty records: record numbers are the rows a spreadsheet shows
    for r in [*title, list(header), *rows, *after]:
        if any(v not in (None, "") for v in r):
            writer.writerow(["" if v is None else v for v in r])
    return out.getvalue().encode("utf-8")


def pdf(
    rows: Sequence[Sequence[Any]],
    *,
    title: Sequence[str],
    header: Sequence[str] = HEADER,
) -> bytes:
    """A ruled text-PDF packing list: title lines, then the table (totals row included)."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfgen import canvas
    from reportlab.platypus import Table, TableStyle

    buf = io.BytesIO()
    size = landscape(A4)
    c = canvas.Canvas(buf, pagesize=size)
    c.setFont("Helvetica", 9)
    y = size[1] - 40
    for text in title:
        c.drawString(30, y, text)
        y -= 15
    cells = [list(header), *[["" if v is None else str(v) for v in r] for r in rows]]
    table = Table(cells, colWidths=[30, 110, 50, 30, 50, 60, 50, 50, 50, 230])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), "Helvetica", 7),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("GRID", (0, 0), (-1, -1), 0.5, (0, 0, 0)),
            ]
        )
    )
    _, h = table.wrapOn(c, 800, 600)
    table.drawOn(c, 30, y - 10 - h)
    c.showPage()
    c.save()
    return buf.getvalue()


def document(doc_id: str, filename: str, data: bytes) -> DocumentInput:
    return shipment_document(data, filename, doc_id)


def check(
    docs: Sequence[DocumentInput],
    records: Sequence[Any],
    *,
    destination: str = "DE",
) -> Report:
    return check_shipment(
        docs,
        platform=InMemoryRegistry(records),
        facts=ShipmentFacts(shipment_id="S-1", destination=destination, transport_mode="sea"),
        clock=lambda: FIXED_CLOCK,
    )


def found(report: Report, code: str) -> list[Finding]:
    return [f for f in report.findings if f.code == code]


def records(n: int, **changes: Any) -> list[Any]:
    return [pack_record(f"PK{i:04d}", **changes) for i in range(1, n + 1)]


TOTALS_XLSX = ["TOTAL 合计", None, None, 3, None, None, None, 1350, 1440, None]


# --- totals rows ---------------------------------------------------------------------------


def test_a_totals_row_that_adds_up_gives_no_finding():
    data = xlsx([row(1), row(2), row(3), TOTALS_XLSX])
    report = check([document("d1", "pl.xlsx", data)], records(3))
    assert report.verdict is Verdict.CLEAR, [f.code for f in report.findings]
    header = extract(data, filename="pl.xlsx").header
    assert (header["total_quantity"], header["total_net_kg"], header["total_gross_kg"]) == (
        "3",
        "1350",
        "1440",
    )


def test_a_totals_row_whose_gross_differs_blocks_at_its_cell():
    totals = ["Grand Total 总计", None, None, 3, None, None, None, 1350, 1500, None]
    report = check([document("d1", "pl.xlsx", xlsx([row(1), row(2), row(3), totals]))], records(3))
    (finding,) = found(report, "WEIGHT_TOTAL_MISMATCH")
    assert finding.severity is Severity.BLOCK
    assert finding.evidence["field"] == "total_gross_kg"
    assert (finding.evidence["stated"], finding.evidence["computed"]) == (1500.0, 1440.0)
    # the gross cell of the totals row: column I of the row after three lines
    assert (finding.refs[0].sheet, finding.refs[0].cell) == ("PL", "I13")
    assert report.verdict is Verdict.BLOCK


def test_a_totals_row_quantity_that_differs_blocks():
    totals = ["合计", None, None, 4, None, None, None, 1350, 1440, None]
    report = check([document("d1", "pl.xlsx", xlsx([row(1), row(2), row(3), totals]))], records(3))
    (finding,) = found(report, "QUANTITY_TOTAL_MISMATCH")
    assert finding.severity is Severity.BLOCK
    assert (finding.evidence["stated"], finding.evidence["computed"]) == ("4", "3")
    assert finding.refs[0].cell == "D13"


def test_sub_totals_are_not_the_documents_totals():
    subtotal = ["Sub-total 小计", None, None, 1, None, None, None, 450, 480, None]
    data = xlsx([row(1), subtotal, row(2), row(3), TOTALS_XLSX])
    report = check([document("d1", "pl.xlsx", data)], records(3))
    assert not found(report, "WEIGHT_TOTAL_MISMATCH")
    assert not found(report, "QUANTITY_TOTAL_MISMATCH")
    assert report.verdict is Verdict.CLEAR


def test_a_csv_totals_row_net_weight_that_differs_blocks():
    totals = ["TOTAL", "", "", "3", "", "", "", "1400", "1440", ""]
    data = csv_bytes([row(1), row(2), row(3), totals])
    report = check([document("d1", "pl.csv", data)], records(3))
    (finding,) = found(report, "WEIGHT_TOTAL_MISMATCH")
    assert finding.evidence["field"] == "total_net_kg"
    assert finding.refs[0].cell == "H12"
    assert report.verdict is Verdict.BLOCK


def test_a_pdf_totals_row_is_read_and_compared():
    title = ["PACKING LIST", "Shipper: Shanghai Example Power Co., Ltd.",
             "Consignee: Example Energy GmbH (EORI DE123456789012345)",
             "DG Packaging Cert: CIQ-DG-2026-0815", "Destination: DE"]  # fmt: skip
    good = ["TOTAL", "", "", "3", "", "", "", "1350", "1440", ""]
    data = pdf([row(1), row(2), row(3), good], title=title)
    header = extract(data, filename="pl.pdf").header
    assert header["total_gross_kg"] == "1440"
    assert header["totals_page"] == "1"
    ok = check([document("d1", "pl.pdf", data)], records(3))
    assert not found(ok, "WEIGHT_TOTAL_MISMATCH")
    bad = ["TOTAL", "", "", "3", "", "", "", "1350", "1500", ""]
    report = check([document("d1", "pl.pdf", pdf([row(1), row(2), row(3), bad], title=title))],
                   records(3))  # fmt: skip
    (finding,) = found(report, "WEIGHT_TOTAL_MISMATCH")
    assert finding.refs[0].page == 1
    assert finding.refs[0].bbox is not None
    assert report.verdict is Verdict.BLOCK


def test_title_block_totals_are_stated_totals():
    title = [*TITLE[:-1], ["Total G.W. 总毛重:", "1,500.00 KGS"], []]
    data = xlsx([row(1), row(2), row(3)], title=title)
    report = check([document("d1", "pl.xlsx", data)], records(3))
    (finding,) = found(report, "WEIGHT_TOTAL_MISMATCH")
    assert finding.evidence["stated"] == 1500.0


# --- units ---------------------------------------------------------------------------------


def _gs1_and_gb_rows(n: int) -> tuple[list[str], list[list[Any]]]:
    header = [*HEADER[:-1], "GS1 Code", "GB/T 34014 Code"]
    rows = [[*row(i)[:-1], sgtin(f"PK{i:04d}"), gb_code(i)] for i in range(1, n + 1)]
    return header, rows


def test_a_packs_gs1_and_gb_codes_on_one_line_are_one_unit():
    header, rows = _gs1_and_gb_rows(4)
    data = xlsx(rows, header=header)
    recs = [pack_record(f"PK{i:04d}", gb_code=gb_code(i)) for i in range(1, 5)]
    report = check([document("d1", "pl.xlsx", data)], recs)
    assert not found(report, "QUANTITY_CODE_COUNT_MISMATCH")
    assert not found(report, "DUPLICATE_UNIT_CODE")
    assert report.counts["codes"] == 8
    assert report.counts["units"] == report.counts["verified"] == len(report.units) == 4
    assert sorted(report.units[0]["keys"]) == sorted(  # type: ignore[arg-type]
        [f"01:{GTIN_PACK}/21:PK0001", gb_code(1)]
    )
    assert report.verdict is Verdict.CLEAR


def test_two_codes_of_two_records_on_a_one_piece_line_still_mismatch():
    header, rows = _gs1_and_gb_rows(2)
    rows[1][-1] = gb_code(9)  # line 2's GB/T code belongs to another pack
    recs = [pack_record("PK0001", gb_code=gb_code(1)), pack_record("PK0002"),
            pack_record("PK0009", gb_code=gb_code(9))]  # fmt: skip
    report = check([document("d1", "pl.xlsx", xlsx(rows, header=header))], recs)
    (finding,) = found(report, "QUANTITY_CODE_COUNT_MISMATCH")
    assert finding.evidence["line"] == "2"


def test_a_packs_gb_code_on_a_later_line_is_a_duplicate_of_its_gs1_code():
    rows = [row(1), row(2), row(3, **{"Battery Code": gb_code(1)})]
    recs = [pack_record("PK0001", gb_code=gb_code(1)), pack_record("PK0002")]
    report = check([document("d1", "pl.xlsx", xlsx(rows))], recs)
    (finding,) = found(report, "DUPLICATE_UNIT_CODE")
    assert finding.evidence["count"] == 2


def _invoice(n: int, *, title: Sequence[Sequence[Any]] | None = None) -> bytes:
    header = ["Item", "Goods Description", "Model No.", "Battery Code", "Quantity (pcs)",
              "Unit Price USD"]  # fmt: skip
    rows = [
        [i, "Lithium-ion battery pack", "EVP-75", sgtin(f"PK{i:04d}"), 1, 2140]
        for i in range(1, n + 1)
    ]
    invoice_title = [
        ["COMMERCIAL INVOICE 商业发票"],
        ["Shipper 发货人:", "Shanghai Example Power Co., Ltd."],
        ["Consignee 收货人:", "Example Energy GmbH, Hamburg"],
        ["HS Code 商品编码:", "8507600020"],
        [],
    ]
    return xlsx(rows, title=invoice_title if title is None else title, header=header)


def _packing_list_csv(n: int, *, un_for: set[int] | None = None) -> bytes:
    title = [
        ["PACKING LIST 装箱单"],
        ["Consignee / 收货人: Example Energy GmbH, Hamburg, Germany (EORI DE123456789012345)"],
        ["DG Packing Approval / 危包证: CIQ-DG-2026-0815"],
        [],
    ]
    rows = [
        row(i, **({} if un_for is None or i in un_for else {"UN No.": None}))
        for i in range(1, n + 1)
    ]
    return csv_bytes(rows, title=title)


def test_an_invoice_and_a_packing_list_of_the_same_units_count_them_once():
    docs = [document("inv", "invoice.xlsx", _invoice(10)),
            document("pl", "packing_list.csv", _packing_list_csv(10))]  # fmt: skip
    report = check(docs, records(10))
    assert report.counts["codes"] == 20
    assert report.counts["units"] == report.counts["verified"] == len(report.units) == 10


def test_facts_the_packing_list_states_for_the_same_units_satisfy_the_invoice():
    docs = [document("inv", "invoice.xlsx", _invoice(10)),
            document("pl", "packing_list.csv", _packing_list_csv(10))]  # fmt: skip
    report = check(docs, records(10))
    assert not found(report, "UN_NUMBER_MISSING")
    assert not found(report, "EU_EORI_MISSING")
    missing = {f.evidence["field"] for f in found(report, "REQUIRED_FIELD_MISSING")}
    assert not missing & {"net_kg", "gross_kg", "hs_code", "quantity"}
    assert report.verdict is Verdict.CLEAR, [f.code for f in report.findings]


def test_a_unit_no_document_gives_a_un_number_for_still_warns():
    docs = [document("inv", "invoice.xlsx", _invoice(3)),
            document("pl", "packing_list.csv", _packing_list_csv(3, un_for={1, 2}))]  # fmt: skip
    report = check(docs, records(3))
    (finding,) = found(report, "UN_NUMBER_MISSING")
    # line 3 of both documents: the invoice line and the packing-list line of PK0003
    assert {r.line for r in finding.refs} == {"3"}
    assert finding.evidence["count"] == 2


def test_an_invoice_alone_still_misses_weights_and_un_number():
    report = check([document("inv", "invoice.xlsx", _invoice(3))], records(3))
    assert found(report, "UN_NUMBER_MISSING")
    assert {"net_kg", "gross_kg"} <= {
        f.evidence["field"] for f in found(report, "REQUIRED_FIELD_MISSING")
    }
    assert found(report, "EU_EORI_MISSING")


# --- numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "code", "severity"),
    [
        ("Qty", "1e400", "NUMBER_INVALID", Severity.BLOCK),
        ("Qty", "inf", "NUMBER_INVALID", Severity.BLOCK),
        ("Qty", "NaN", "NUMBER_INVALID", Severity.BLOCK),
        ("Qty", "-1", "NUMBER_INVALID", Severity.BLOCK),
        ("N.W. (kg)", "-450", "NUMBER_INVALID", Severity.BLOCK),
        ("G.W. (kg)", "1e999", "NUMBER_INVALID", Severity.BLOCK),
        ("Qty", "approx. one", "NUMBER_INVALID", Severity.WARN),
        ("Qty", "2.5", "QUANTITY_NOT_WHOLE", Severity.WARN),
        ("Qty", "2000000", "NUMBER_IMPLAUSIBLE", Severity.WARN),
        ("G.W. (kg)", "480000", "NUMBER_IMPLAUSIBLE", Severity.WARN),
    ],
)
def test_numbers_that_cannot_be_right_are_findings_at_their_cell(column, value, code, severity):
    data = csv_bytes([row(1), row(2, **{column: value}), row(3)])
    report = check([document("d1", "pl.csv", data)], records(3))
    (finding,) = found(report, code)
    assert finding.severity is severity
    letter = "ABCDEFGHIJ"[HEADER.index(column)]
    assert finding.refs[0].cell == f"{letter}10"
    assert finding.refs[0].line == "2"
    if severity is Severity.BLOCK:
        assert report.verdict is Verdict.BLOCK
    else:
        assert report.verdict is not Verdict.CLEAR


def test_an_xlsx_number_too_large_for_a_double_is_not_finite():
    # line 2's net weight stored as the number 1E+400 (openpyxl cannot write it: patch the XML)
    data = xlsx([row(1), row(2, **{"N.W. (kg)": 987654}), row(3)])
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            part = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert b"<v>987654</v>" in part
                part = part.replace(b"<v>987654</v>", b"<v>1E+400</v>")
            target.writestr(info, part)
    report = check([document("d1", "pl.xlsx", out.getvalue())], records(3))
    (finding,) = found(report, "NUMBER_INVALID")
    assert finding.severity is Severity.BLOCK
    assert finding.refs[0].cell == "H11"


def test_blank_placeholders_are_not_numbers_to_judge():
    data = csv_bytes([row(1), row(2, **{"N.W. (kg)": "-"}), row(3, **{"N.W. (kg)": "N/A"})])
    report = check([document("d1", "pl.csv", data)], records(3))
    assert not found(report, "NUMBER_INVALID")


# --- title-block facts ---------------------------------------------------------------------

# (DG packaging cert, EORI, UN38.3 summary, SDS, DG declaration, declaration elements) in the
# layouts forwarders use: "Label: value" in one cell, the value one or two cells right, the
# EORI inside the consignee's address; English and Chinese labels.
_ELEMENTS = f"品牌类型:1|出口享惠情况:3|用途:电动汽车用|GTIN:{GTIN_PACK}"
FACT_LAYOUTS = {
    "one cell, English": [
        ["DG Packaging Certificate: CIQ-DG-2026-0815"],
        ["Consignee EORI No.: DE123456789012345"],
        ["UN38.3 Test Summary: UN383-EVP75-2026"],
        ["SDS No.: SDS-EVP75-2026"],
        ["DG Declaration No.: DGD-2026-1120"],
        [f"Declaration elements: {_ELEMENTS}"],
    ],
    "one cell, Chinese": [
        ["危包证号：CIQ-DG-2026-0815"],
        ["收货人：Example Energy GmbH，Hamburg，EORI号：DE123456789012345"],
        ["UN38.3测试概要：UN383-EVP75-2026"],
        ["安全技术说明书编号：SDS-EVP75-2026"],
        ["危险货物申报单号：DGD-2026-1120"],
        [f"申报要素：{_ELEMENTS}"],
    ],
    "value one cell right": [
        ["危包证 DG Packing Approval:", "CIQ-DG-2026-0815"],
        ["EORI:", "DE123456789012345"],
        ["UN38.3 测试概要:", "UN383-EVP75-2026"],
        ["MSDS 安全技术说明书:", "SDS-EVP75-2026"],
        ["Shipper's Declaration for Dangerous Goods:", "DGD-2026-1120"],
        ["申报要素 Declaration elements:", _ELEMENTS],
    ],
    "value two cells right, EORI in the address": [
        ["Dangerous goods packaging certificate", None, "CIQ-DG-2026-0815"],
        ["Consignee 收货人:", None, "Example Energy GmbH, Hamburg (EORI DE123456789012345)"],
        ["UN 38.3 test report", None, "UN383-EVP75-2026"],
        ["Safety Data Sheet", None, "SDS-EVP75-2026"],
        ["DGD", None, "DGD-2026-1120"],
        ["申报要素", None, _ELEMENTS],
    ],
}
FACT_FINDINGS = {
    "DG_PACKAGING_CERT_MISSING",
    "EU_EORI_MISSING",
    "UN38_3_SUMMARY_MISSING",
    "SDS_REFERENCE_MISSING",
    "DG_DECLARATION_NOT_PROVIDED",
    "DECLARATION_ELEMENTS_NOT_PROVIDED",
}


def _title(facts: Sequence[Sequence[Any]]) -> list[list[Any]]:
    return [
        ["PACKING LIST 装箱单"],
        ["Shipper 发货人:", "Shanghai Example Power Co., Ltd."],
        ["Destination 目的国:", "DE"],
        *[list(f) for f in facts],
        *([] if any("收货人" in str(f[0]) for f in facts) else [["Consignee:", "Example GmbH"]]),
        [],
    ]


@pytest.mark.parametrize("layout", sorted(FACT_LAYOUTS))
def test_title_block_facts_are_read_in_each_layout(layout):
    data = xlsx([row(1), row(2)], title=_title(FACT_LAYOUTS[layout]))
    # records without a UN38.3 summary: only the document can state it
    report = check([document("d1", "pl.xlsx", data)], records(2, un38_3_summary_ref=None))
    assert not FACT_FINDINGS & {f.code for f in report.findings}, layout


def test_without_title_block_facts_the_findings_stand():
    data = xlsx([row(1), row(2)], title=_title([]))
    report = check([document("d1", "pl.xlsx", data)], records(2, un38_3_summary_ref=None))
    assert {f.code for f in report.findings} >= FACT_FINDINGS


def test_facts_in_the_remarks_below_the_table_are_read():
    after = [[], ["Remarks 备注:"], ["SDS No.: SDS-EVP75-2026"], ["UN38.3 test summary:", "TS-1"]]
    data = xlsx([row(1), row(2)], title=_title([]), after=after)
    report = check([document("d1", "pl.xlsx", data)], records(2, un38_3_summary_ref=None))
    codes = {f.code for f in report.findings}
    assert "SDS_REFERENCE_MISSING" not in codes
    assert "UN38_3_SUMMARY_MISSING" not in codes


# --- destinations --------------------------------------------------------------------------


def _destination_title(text: str) -> list[list[Any]]:
    kept = [list(r) for r in TITLE if r[:1] != ["Destination 目的国:"]]
    return [*kept[:-1], [text], []]


@pytest.mark.parametrize("written", ["最终目的国：日本", "Country of Destination: Japan (JP)",
                                     "Final destination 目的国: 日本 Japan"])  # fmt: skip
def test_a_country_named_in_words_is_the_destination(written):
    data = xlsx([row(1)], title=_destination_title(written))
    recs = [dataclasses.replace(r, destination_country="JP") for r in records(1)]
    report = check([document("d1", "pl.xlsx", data)], recs, destination="JP")
    assert not found(report, "COUNTRY_CODE_INVALID")
    assert not found(report, "DESTINATION_INCONSISTENT")


@pytest.mark.parametrize(
    ("written", "severity"),
    [
        ("Destination: XQ", Severity.BLOCK),
        # a place in words: the user's destination (DE) is known, so only information
        ("Final destination: Atlantis", Severity.INFO),
    ],
)
def test_a_destination_that_is_no_country_is_invalid(written, severity):
    data = xlsx([row(1)], title=_destination_title(written))
    report = check([document("d1", "pl.xlsx", data)], records(1))
    (finding,) = found(report, "COUNTRY_CODE_INVALID")
    assert finding.severity is severity


def test_a_named_destination_that_differs_from_the_users_is_inconsistent():
    data = xlsx([row(1)], title=_destination_title("最终目的国：日本"))
    report = check([document("d1", "pl.xlsx", data)], records(1))
    (finding,) = found(report, "DESTINATION_INCONSISTENT")
    assert finding.evidence["values"] == "DE, JP"


def test_a_page_total_is_not_the_documents_total():
    # the last page's foot, printed after the grand total, covers line 3 only
    page_total = ["Total this page 本页合计", None, None, 1, None, None, None, 450, 480, None]
    data = xlsx([row(1), row(2), row(3), TOTALS_XLSX, page_total])
    report = check([document("d1", "pl.xlsx", data)], records(3))
    assert not found(report, "WEIGHT_TOTAL_MISMATCH")
    assert not found(report, "QUANTITY_TOTAL_MISMATCH")
    header = extract(data, filename="pl.xlsx").header
    assert header["total_gross_kg"] == "1440"
