"""Title-block labels, the header block's values, and numbers as cells state them."""

import pytest

from gateway.parsers.columns import map_header_label
from gateway.parsers.table import read_header_block, read_number


@pytest.mark.parametrize(
    ("label", "field"),
    [
        ("危包证号 DG packaging cert.:", "dg_packaging_cert"),
        ("DG Packaging Appraisal No.", "dg_packaging_cert"),
        ("EORI:", "consignee_eori"),
        ("UN38.3 Test Summary", "un38_3"),
        ("MSDS No.", "msds"),
        ("SDS", "msds"),
        ("危险货物申报单 DGD", "dg_declaration"),
        ("申报要素", "declaration_elements"),
        ("报关单号 Declaration No.", "declaration_no"),
        ("收货人 Consignee", "consignee"),
        ("UN No.", "un_number"),
    ],
)
def test_title_block_labels_map_to_fields(label, field):
    assert map_header_label(label) == field


@pytest.mark.parametrize(
    ("label", "field"),
    [
        ("DG Declaration No.", "dg_declaration"),
        ("Shipper's Declaration for Dangerous Goods", "dg_declaration"),
        ("进口商EORI号", "consignee_eori"),
        ("UN38.3测试概要", "un38_3"),
        ("物质安全资料表", "msds"),
        ("Dangerous Goods Packaging Usage Appraisal", "dg_packaging_cert"),
        ("Total G.W. 总毛重", "total_gross_kg"),
        ("毛重(千克)", "total_gross_kg"),
        ("Total N.W.", "total_net_kg"),
        ("总数量 Total Qty", "total_quantity"),
        ("No. of packages 件数", "total_packages"),
        ("Gross weight per carton", None),  # not a document total
    ],
)
def test_more_title_block_labels(label, field):
    assert map_header_label(label) == field


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            ["申报要素：品牌类型:1|用途:电动汽车用"],
            {"declaration_elements": "品牌类型:1|用途:电动汽车用"},
        ),
        (["DG Packing Approval 危包证:", None, "NB-1"], {"dg_packaging_cert": "NB-1"}),
        (
            ["Consignee:", "ACME GmbH (EORI DE123456789)"],
            {"consignee": "ACME GmbH (EORI DE123456789)", "consignee_eori": "DE123456789"},
        ),
        (
            ["收货人：ACME，EORI号：FI27345118"],
            {"consignee": "ACME，EORI号：FI27345118", "consignee_eori": "FI27345118"},
        ),
        (["Consignee: ACME GmbH, EORI to follow"], {"consignee": "ACME GmbH, EORI to follow"}),
        (
            ["Empfänger / Consignee:", "ACME GmbH, EORI-Nr. DE123456789012345"],
            {
                "consignee": "ACME GmbH, EORI-Nr. DE123456789012345",
                "consignee_eori": "DE123456789012345",
            },
        ),
        (["Total G.W.: 3,510.00 KGS"], {"total_gross_kg": "3510"}),
        (["Total packages / 总件数:", "12 pallets"], {"total_packages": "12"}),
        (["Gross weight: n/a"], {}),
    ],
)
def test_header_block_values(row, expected):
    assert read_header_block([row]) == expected


@pytest.mark.parametrize(
    ("value", "number", "raw"),
    [
        ("1,234.5", 1234.5, None),
        ("584,00", 584.0, None),
        ("6 PCS", 6.0, None),
        ("1e3", 1000.0, None),
        ("1e400", None, "1e400"),
        ("inf", None, "inf"),
        ("NaN", None, "NaN"),
        (float("inf"), None, "inf"),
        ("-5", -5.0, None),
        ("approx. 4", None, "approx. 4"),
        ("-", None, None),
        ("N/A", None, None),
        ("", None, None),
    ],
)
def test_read_number_keeps_what_is_not_a_usable_number(value, number, raw):
    assert read_number(value) == (number, raw)
