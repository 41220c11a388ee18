"""Title-block labels that cite the shipment's other documents map to their own fields."""

import pytest

from gateway.parsers.columns import map_header_label


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
