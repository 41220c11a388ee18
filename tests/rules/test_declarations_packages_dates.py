"""Declaration elements, packages, DG declaration, SDS, EU label data and due diligence,
look-up age: table tests with hits, misses and edge dates."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from gateway.domain import Document, Extraction, ManifestLine, Severity, SourceRef
from gateway.rules.context import RuleContext, ShipmentFacts
from gateway.rules.customs import parse_declaration_elements
from gateway.rules.manifest import range_count
from tests.rules.rule_factories import (
    DOC,
    GTIN,
    codes,
    context,
    gtin,
    item,
    line,
    record,
    run,
    sgtin,
)

FULL = (
    f"品牌类型:1|出口享惠情况:3|用途:电动汽车用|电极材料:NCM|比能量:170Wh/kg|品牌:EX|"
    f"型号:EVP-75|容量:206Ah|汞含量:无汞|额定电压:364V|GTIN:{GTIN}|CAS:无"
)

# --- declaration elements (CUS-02) -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0|3|电动汽车用|NCM|160Wh/kg|EX|EVP-75", {"brand_type": "0", "model": "EVP-75"}),
        ("锂离子电池|0|3|储能用|LFP", {"brand_type": "0", "use": "储能用"}),
        ("品牌类型：0；用途：储能；GTIN：06901234567892", {"gtin": "06901234567892"}),
        ("Battery pack; 75 kWh; NCM; UN3480", {}),  # a description, not elements
        ("Lithium-ion battery pack 锂离子电池包", {}),
        ("a|b", {}),
    ],
)
def test_declaration_strings_are_read_labelled_or_positional(text, expected):
    parsed = parse_declaration_elements(text)
    for name, value in expected.items():
        assert parsed[name] == value
    if not expected:
        assert parsed == {}


def test_no_elements_anywhere_is_one_info_for_the_shipment():
    lines = [line(8), line(9), line(10, model="OTHER-1")]
    findings = run("customs.declaration_elements", context(lines=lines))
    assert codes(findings) == ["DECLARATION_ELEMENTS_NOT_PROVIDED"]
    assert findings[0].severity is Severity.INFO
    assert findings[0].evidence["count"] == 3
    assert [r.document_id for r in findings[0].refs] == ["doc-1"]


def test_incomplete_elements_warn_once_per_line_group_naming_what_is_missing():
    partial = "品牌类型:1|用途:电动汽车用|型号:EVP-75|GTIN:" + GTIN
    lines = [
        line(8, extra={"declaration_elements": partial}),
        line(9),  # same model and HS: same group, one finding
    ]
    findings = run("customs.declaration_elements", context(lines=lines))
    assert codes(findings) == ["DECLARATION_ELEMENTS_INCOMPLETE"]
    assert findings[0].severity is Severity.WARN
    missing = str(findings[0].evidence["missing"])
    assert "preference" in missing
    assert "cas" in missing
    assert "gtin" not in missing
    assert "出口享惠情况" in findings[0].fix_zh
    assert len(findings[0].refs) == 2


def test_complete_elements_in_the_title_block_pass_and_other_headings_are_ignored():
    lines = [line(8), line(9, hs_code="8504403090")]
    ctx = context(lines=lines, header={"declaration_elements": FULL})
    assert run("customs.declaration_elements", ctx) == []


def test_required_elements_are_a_ruleset_parameter():
    lines = [line(8, extra={"declaration_elements": "品牌类型:1|用途:储能|型号:X|GTIN:1"})]
    override = {"rules": {"customs.declaration_elements": {"params": {"required": ["use"]}}}}
    assert run("customs.declaration_elements", context(lines=lines), override) == []


# --- declared GTIN vs unit codes (CUS-03) ------------------------------------------------


def test_declared_gtin_differing_from_the_unit_codes_warns():
    other = gtin("0690123400012")
    on = line(8, extra={"declaration_elements": f"品牌类型:1|型号:EVP-75|GTIN:{other}|CAS:无"})
    findings = run("customs.declaration_gtin", context([item(sgtin("SN1"), on=on)]))
    assert codes(findings) == ["DECLARATION_GTIN_MISMATCH"]
    assert findings[0].evidence["stated"] == other
    assert findings[0].evidence["decoded"] == GTIN


@pytest.mark.parametrize(
    "declared",
    [GTIN, GTIN[1:]],  # GTIN-13 written without the leading zero is the same GTIN
)
def test_declared_gtin_equal_to_the_unit_codes_passes(declared):
    on = line(8, extra={"declaration_elements": f"品牌类型:1|型号:EVP-75|GTIN:{declared}|CAS:无"})
    assert run("customs.declaration_gtin", context([item(sgtin("SN1"), on=on)])) == []


def test_no_declared_gtin_is_left_to_the_elements_rule():
    on = line(8)
    assert run("customs.declaration_gtin", context([item(sgtin("SN1"), on=on)])) == []


# --- packages (MAN-04) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "count"),
    [("C001-C010", 10), ("1~5", 5), ("CTN 3-4", 2), ("A1-B5", None), ("7", None), ("C9-C3", None)],
)
def test_package_ranges_are_counted(text, count):
    assert range_count(text) == count


def test_carton_quantity_stated_once_with_codes_on_the_rows_below_reconciles():
    first = line(8, carton="C1", quantity=3.0)
    second = line(9, carton="C1", quantity=None)
    third = line(10, carton="C1", quantity=None)
    items = [
        item(sgtin("SN1"), on=first),
        item(sgtin("SN2"), on=second),
        item(sgtin("SN3"), on=third),
    ]
    ctx = context(items)
    assert run("manifest.packages", ctx) == []
    # the per-line rule does not call line 1 a mismatch either
    assert "QUANTITY_CODE_COUNT_MISMATCH" not in codes(run("manifest.quantity", ctx))


def test_carton_with_fewer_codes_than_its_quantity_warns_once():
    first = line(8, carton="C1", quantity=3.0)
    second = line(9, carton="C1", quantity=None)
    ctx = context([item(sgtin("SN1"), on=first), item(sgtin("SN2"), on=second)])
    findings = run("manifest.packages", ctx)
    assert codes(findings) == ["PACKAGE_CODE_COUNT_MISMATCH"]
    assert findings[0].evidence == {"kind": "carton", "package": "C1", "quantity": "3", "codes": 2}


def test_lines_without_packages_and_range_counts_warn():
    packed = line(8, carton="C001-C003", extra={"packages": "2"})
    loose = line(9)
    ctx = context([item(sgtin("SN1"), on=packed), item(sgtin("SN2"), on=loose)])
    assert sorted(codes(run("manifest.packages", ctx))) == [
        "PACKAGE_RANGE_COUNT_MISMATCH",
        "UNITS_WITHOUT_PACKAGE",
    ]


def test_documents_packing_a_unit_differently_warn_once():
    other = Document(id="doc-2", filename="inv.xlsx", media_type="x", sha256="2")
    a_line = line(8, carton="C1")
    b_line = dataclasses.replace(line(8, carton="C2"), source=SourceRef(document_id="doc-2", row=8))
    a = item(sgtin("SN1"), on=a_line)
    b = item(sgtin("SN1"), on=b_line, document=other)
    extractions = [
        Extraction(document=DOC, lines=(a_line,)),
        Extraction(document=other, lines=(b_line,)),
    ]
    findings = run("manifest.packages", context([a, b], extractions=extractions))
    assert codes(findings) == ["UNIT_IN_SEVERAL_PACKAGES"]
    assert findings[0].evidence["packages"] == "carton C1 / carton C2"


def test_no_package_columns_no_findings():
    assert run("manifest.packages", context([item(sgtin("SN1"), on=line(8))])) == []


# --- DG declaration (DG-03) and SDS (DG-08) ----------------------------------------------


def _doc(doc_id: str, *lines_: ManifestLine, header: dict[str, str] | None = None) -> Extraction:
    document = Document(id=doc_id, filename=f"{doc_id}.xlsx", media_type="x", sha256=doc_id)
    return Extraction(document=document, header=dict(header or {}), lines=tuple(lines_))


def test_documents_disagreeing_on_un_numbers_or_packages_block():
    pl = _doc("pl", line(8, extra={"packages": "2"}), header={"dg_declaration": "DGD-1"})
    dgd = _doc("dgd", line(8, un_number="UN3481", extra={"packages": "3"}))
    findings = run("dangerous_goods.declaration", context(extractions=[pl, dgd]))
    assert codes(findings) == ["DG_DECLARATION_INCONSISTENT", "DG_DECLARATION_INCONSISTENT"]
    assert {f.evidence["field"] for f in findings} == {"un_number", "packages"}
    assert all(f.severity is Severity.BLOCK for f in findings)


def test_net_mass_within_tolerance_is_consistent():
    pl = _doc("pl", line(8, net_kg=1000.0), header={"dgd": "DGD-1"})
    dgd = _doc("dgd", line(8, net_kg=1002.0))
    assert run("dangerous_goods.declaration", context(extractions=[pl, dgd])) == []
    dgd_far = _doc("dgd", line(8, net_kg=1100.0))
    findings = run("dangerous_goods.declaration", context(extractions=[pl, dgd_far]))
    assert [f.evidence["field"] for f in findings] == ["net_kg"]


@pytest.mark.parametrize(
    ("mode", "form"),
    [("sea", "IMO dangerous goods form"), ("air", "Shipper's Declaration for Dangerous Goods")],
)
def test_no_dg_declaration_is_one_info_with_the_figures(mode, form):
    pl = _doc("pl", line(8, extra={"packages": "1"}), line(9, extra={"packages": "1"}))
    (finding,) = run("dangerous_goods.declaration", context(extractions=[pl], mode=mode))
    assert finding.code == "DG_DECLARATION_NOT_PROVIDED"
    assert finding.severity is Severity.INFO
    assert finding.evidence["form"] == form
    assert finding.evidence["figures"] == "UN3480 · 2 pkgs · N.W. 900 kg"


def test_lines_without_a_battery_un_number_need_no_dg_declaration():
    pl = _doc("pl", line(8, un_number=None))
    assert run("dangerous_goods.declaration", context(extractions=[pl])) == []


@pytest.mark.parametrize(
    ("mode", "header", "expected"),
    [
        ("sea", {}, [("SDS_REFERENCE_MISSING", Severity.INFO)]),
        ("air", {}, [("SDS_REFERENCE_MISSING", Severity.WARN)]),
        ("air", {"msds": "SDS-1"}, []),
        ("sea", {"sds_no": "SDS-1"}, []),
    ],
)
def test_sds_reference_once_per_shipment(mode, header, expected):
    ctx = context(lines=[line(8), line(9)], header=header, mode=mode)
    assert [(f.code, f.severity) for f in run("dangerous_goods.sds", ctx)] == expected


def test_sds_cited_on_a_line_counts():
    ctx = context(lines=[line(8, extra={"msds": "SDS-1"}), line(9)])
    assert run("dangerous_goods.sds", ctx) == []


# --- EU label data (EU-05) and due diligence (EU-07) -------------------------------------

_COMPLETE = {
    "manufacturer_name": "Example",
    "manufacturing_date": dt.date(2026, 9, 1),
    "rated_capacity_ah": 206.0,
}


@pytest.mark.parametrize(
    ("today", "changes", "missing"),
    [
        (dt.date(2026, 8, 17), {}, None),  # the day before the labelling date
        (dt.date(2026, 8, 18), {}, "manufacturer, manufacturing_date"),
        (dt.date(2026, 11, 20), _COMPLETE, None),
        (dt.date(2026, 11, 20), {**_COMPLETE, "chemistry": None}, "chemistry"),
    ],
)
def test_label_data_from_its_date_once_per_model(today, changes, missing):
    on = line(8)
    units = [item(sgtin(s), on=on, rec=record(s, **changes)) for s in ("SN1", "SN2")]
    findings = run("eu.label_data", context(units, today=today))
    if missing is None:
        assert findings == []
    else:
        assert codes(findings) == ["EU_LABEL_DATA_MISSING"]
        assert findings[0].evidence["missing"] == missing
        assert findings[0].evidence["count"] == 2


def test_label_data_only_for_eu_bound_units():
    on = line(8, destination="US")
    units = [item(sgtin("SN1"), on=on)]
    assert run("eu.label_data", context(units, destination="US")) == []


@pytest.mark.parametrize(
    ("today", "expected"),
    [(dt.date(2027, 8, 17), []), (dt.date(2027, 8, 18), ["EU_DUE_DILIGENCE"])],
)
def test_due_diligence_from_its_date(today, expected):
    units = [item(sgtin(s), on=line(8)) for s in ("SN1", "SN2")]
    findings = run("eu.due_diligence", context(units, today=today))
    assert codes(findings) == expected
    assert all(f.severity is Severity.INFO for f in findings)


# --- look-up age (REG-12) ----------------------------------------------------------------


def _aged(checked_at: dt.datetime | None, declared_on: dt.date | None) -> RuleContext:
    base = context([item(sgtin("SN1"), on=line(8))])
    facts = ShipmentFacts(shipment_id="S1", destination="DE", declared_on=declared_on)
    return dataclasses.replace(base, facts=facts, checked_at=checked_at)


@pytest.mark.parametrize(
    ("checked_at", "declared_on", "expected"),
    [
        (dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC), dt.date(2026, 11, 21), []),  # 15 h
        (dt.datetime(2026, 11, 20, 0, 0, tzinfo=dt.UTC), dt.date(2026, 11, 21), []),  # 24 h
        (dt.datetime(2026, 11, 19, 23, 0, tzinfo=dt.UTC), dt.date(2026, 11, 21), ["LOOKUP_AGE"]),
        (dt.datetime(2026, 11, 18, 9, 0, tzinfo=dt.UTC), None, []),
        (None, dt.date(2026, 11, 21), []),
    ],
)
def test_lookup_age_against_the_declaration_date(checked_at, declared_on, expected):
    assert codes(run("registration.lookup_age", _aged(checked_at, declared_on))) == expected


def test_lookup_age_limit_is_a_parameter():
    ctx = _aged(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC), dt.date(2026, 11, 21))
    override = {"rules": {"registration.lookup_age": {"params": {"max_age_hours": 12}}}}
    (finding,) = run("registration.lookup_age", ctx, override)
    assert finding.evidence["hours"] == 15
    assert finding.severity is Severity.INFO


# --- title-block facts under their header keys --------------------------------------------


@pytest.mark.parametrize(
    ("header", "extra", "expected"),
    [
        ({}, {}, ["DG_PACKAGING_CERT_MISSING"]),
        ({"dg_packaging_cert": "CIQ-DG-1"}, {}, []),
        ({"dg_packaging_appraisal": "CIQ-DG-1"}, {}, []),
        ({}, {"dg_packaging_cert": "CIQ-DG-1"}, []),
        ({"dg_packaging_cert": "  "}, {}, ["DG_PACKAGING_CERT_MISSING"]),
    ],
)
def test_packaging_appraisal_is_read_from_the_title_block_or_a_column(header, extra, expected):
    ctx = context(lines=[line(8, extra=extra), line(9)], header=header)
    assert codes(run("customs.dg_packaging", ctx)) == expected


def test_un38_3_summary_cited_by_the_documents_satisfies_the_rule():
    unit = item(sgtin("SN1"), on=line(8), rec=record("SN1", un38_3_summary_ref=None))
    assert codes(run("dangerous_goods.un38_3", context([unit]))) == ["UN38_3_SUMMARY_MISSING"]
    cited = context([unit], header={"un38_3": "UN383-EVP75-2026"})
    assert run("dangerous_goods.un38_3", cited) == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ({"consignee": "Example GmbH"}, ["EU_EORI_MISSING"]),
        ({"consignee": "Example GmbH", "eori": "DE123456789012345"}, []),
        ({"consignee": "Example GmbH", "consignee_eori": "DE1234"}, []),
        ({"consignee": "Example GmbH, EORI DE123456789012345"}, []),
    ],
)
def test_eori_under_any_of_its_keys(header, expected):
    assert codes(run("eu.eori", context(lines=[line(8)], header=header))) == expected


def test_eu_findings_count_units_not_the_places_listing_them():
    invoice = Document(id="doc-2", filename="inv.xlsx", media_type="x", sha256="2")
    on = line(8)
    same_unit = [item(sgtin("SN1"), on=on), item(sgtin("SN1"), on=on, document=invoice)]
    (finding,) = run("eu.category", context(same_unit))
    assert finding.evidence["count"] == 1
    assert len(finding.refs) == 2
