"""Manifest, customs, dangerous-goods, EU and governance rules: table tests."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from gateway.domain import (
    Document,
    Extraction,
    ExtractionMethod,
    ExtractionProblem,
    Severity,
    SourceRef,
)
from gateway.rules.context import RejectedDocument
from tests.rules.rule_factories import DOC, codes, context, item, line, record, run, sgtin

# --- manifest -------------------------------------------------------------------------


def test_rejected_document_blocks_and_names_the_file():
    bad = Document(id="doc-2", filename="broken.pdf", media_type="application/pdf", sha256="1")
    rejected = RejectedDocument(bad, "corrupt_document", "not a PDF")
    (finding,) = run("manifest.documents", context(rejected=[rejected]))
    assert finding.severity is Severity.BLOCK
    assert "broken.pdf" in finding.message_en
    assert "broken.pdf" in finding.message_zh
    assert finding.refs[0].document_id == "doc-2"


def test_extraction_problems_are_grouped_by_kind_with_their_severity():
    problems = (
        *tuple(
            ExtractionProblem(
                kind="identifier_destroyed_in_document",
                message="SSCC stored as a float",
                source=SourceRef(document_id="doc-1", sheet="PL", cell=f"J{r}"),
                line_no=str(r),
                severity=Severity.BLOCK,
            )
            for r in (8, 9)
        ),
        ExtractionProblem(kind="header_guessed", message="m", severity=Severity.INFO),
    )
    extraction = Extraction(document=DOC, problems=problems)
    findings = run("manifest.documents", context(extractions=[extraction]))
    assert [(f.code, f.severity, f.evidence["count"]) for f in findings] == [
        ("DOCUMENT_PROBLEM", Severity.BLOCK, 2),
        ("DOCUMENT_PROBLEM", Severity.INFO, 1),
    ]
    assert findings[0].refs[0].line == "8"


def test_duplicate_within_a_document_blocks_but_invoice_plus_packing_list_does_not():
    other = Document(id="doc-2", filename="inv.xlsx", media_type="x", sha256="2")
    a = item(sgtin("SN1"), on=line(8))
    b = item(sgtin("SN1"), on=line(9))
    c = item(sgtin("SN1"), on=line(8), document=other)
    assert codes(run("manifest.duplicates", context([a, b]))) == ["DUPLICATE_UNIT_CODE"]
    assert run("manifest.duplicates", context([a, c])) == []
    strict = {
        "rules": {"manifest.duplicates": {"params": {"same_unit_across_documents_ok": False}}}
    }
    assert codes(run("manifest.duplicates", context([a, c]), strict)) == ["DUPLICATE_UNIT_CODE"]


def test_a_code_printed_twice_on_one_line_is_one_unit():
    shared = line(8)
    twice = [item(sgtin("SN1"), on=shared), item(sgtin("SN1"), on=shared)]
    assert run("manifest.duplicates", context(twice)) == []


def test_a_unit_marked_twice_on_one_label_is_one_unit():
    # Dual marking: the same (01)+(21) as GS1-128 and as a Digital Link 2-D symbol.
    link = "https://id.example.com/01/" + sgtin("SN1")[4:18] + "/21/SN1"
    on_label = [item(sgtin("SN1"), label="photo-1"), item(link, label="photo-1")]
    assert on_label[0].key == on_label[1].key
    assert run("manifest.duplicates", context(on_label)) == []
    # The same unit on two labels (two photos) is listed twice.
    two_labels = [item(sgtin("SN1"), label="photo-1"), item(link, label="photo-2")]
    assert codes(run("manifest.duplicates", context(two_labels))) == ["DUPLICATE_UNIT_CODE"]
    # Codes posted as a list are checked as one label, but each is a listing of its own.
    posted = [
        dataclasses.replace(
            i, occurrence=dataclasses.replace(i.occurrence, method=ExtractionMethod.INPUT)
        )
        for i in on_label
    ]
    assert codes(run("manifest.duplicates", context(posted))) == ["DUPLICATE_UNIT_CODE"]


def test_already_declared_from_history_or_record():
    it = item(sgtin("SN1"), on=line())
    key = it.key
    assert key is not None
    assert codes(run("manifest.already_declared", context([it], history={key: "SHP-9"}))) == [
        "UNIT_ALREADY_DECLARED"
    ]
    declared = item(sgtin("SN2"), rec=record("SN2", declared_in=("D-1",)), on=line())
    assert codes(run("manifest.already_declared", context([declared]))) == ["UNIT_ALREADY_DECLARED"]
    assert run("manifest.already_declared", context([it])) == []


@pytest.mark.parametrize(
    ("quantity", "expected"), [(2.0, []), (3.0, ["QUANTITY_CODE_COUNT_MISMATCH"])]
)
def test_quantity_equals_codes_on_the_line(quantity, expected):
    shared = line(quantity=quantity)
    items = [item(sgtin("SN1"), on=shared), item(sgtin("SN2"), on=shared)]
    findings = run("manifest.quantity", context(items))
    assert codes(findings) == expected
    if expected:
        assert findings[0].refs[0].cell == "D8"


def test_a_mistyped_code_still_counts_as_the_unit_it_was_meant_for():
    from tests.rules.test_identifiers import BAD_CHECK

    ctx = context([item(BAD_CHECK, status=None, on=line(quantity=1.0))])
    assert run("manifest.quantity", ctx) == []


def test_no_codes_at_all_warns_once():
    findings = run("manifest.quantity", context(lines=[line(8), line(9)]))
    assert codes(findings) == ["NO_UNIT_CODES"]
    assert findings[0].severity is Severity.WARN


@pytest.mark.parametrize(
    ("net", "gross", "expected"),
    [(450.0, 480.0, []), (480.0, 480.0, []), (490.0, 480.0, ["NET_EXCEEDS_GROSS"])],
)
def test_net_never_exceeds_gross(net, gross, expected):
    ctx = context(lines=[line(net_kg=net, gross_kg=gross)])
    assert codes(run("manifest.weights", ctx)) == expected


@pytest.mark.parametrize(
    ("total", "expected"), [("900", []), ("900.00", []), ("950", ["WEIGHT_TOTAL_MISMATCH"])]
)
def test_stated_total_equals_sum_of_lines(total, expected):
    extraction = Extraction(document=DOC, header={"total_net_kg": total}, lines=(line(8), line(9)))
    assert codes(run("manifest.weights", context(extractions=[extraction]))) == expected


def test_required_fields_are_not_asked_of_label_photos():
    photo = Extraction(document=DOC, loose_codes=(), method="image")
    assert run("manifest.required_fields", context(extractions=[photo])) == []


def test_required_fields_one_finding_per_missing_field():
    lines = [line(8, hs_code=None), line(9, hs_code=None)]
    findings = run("manifest.required_fields", context(lines=lines, header={"shipper": "S"}))
    fields = {f.evidence["field"]: f.evidence["count"] for f in findings}
    assert fields == {"consignee": 1, "hs_code": 2}


@pytest.mark.parametrize(
    ("dest", "header", "expected"),
    [
        ("DE", {}, []),
        ("XX", {}, ["COUNTRY_CODE_INVALID"]),
        ("DE", {"destination": "FR"}, ["DESTINATION_INCONSISTENT"]),
        ("DE", {"port_of_loading": "CNSHA"}, []),
        ("DE", {"port_of_loading": "ZZSHA"}, ["PORT_CODE_INVALID"]),
        ("DE", {"port_of_loading": "Shanghai"}, []),
    ],
)
def test_places_table(dest, header, expected):
    ctx = context(lines=[line(destination=dest)], header=header, destination=None)
    assert codes(run("manifest.places", ctx)) == expected


# --- customs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hs", "rec_changes", "expected"),
    [
        ("8507600020", {}, []),
        ("85076000", {}, []),  # 8 digits: heading fits, subheading not comparable
        ("8507600010", {}, ["HS_SUBHEADING_MISMATCH"]),  # a pack declared as a cell line
        ("8504403000", {}, ["HS_HEADING_CONFLICT"]),
        ("8507600090", {"chemistry": "NA_ION"}, ["HS_HEADING_CONFLICT"]),
        ("8507600090", {"category": "ci_ess", "level": "system"}, []),
    ],
)
def test_hs_table(hs, rec_changes, expected):
    it = item(sgtin("SN1"), rec=record("SN1", **rec_changes), on=line(hs_code=hs))
    assert codes(run("customs.hs_code", context([it]))) == expected


@pytest.mark.parametrize(
    ("energy", "today", "expected", "severity"),
    [
        (310.0, dt.date(2026, 11, 10), "EXPORT_CONTROL_SUSPENDED", Severity.WARN),
        (310.0, dt.date(2026, 11, 11), "EXPORT_CONTROL_LICENCE", Severity.BLOCK),
        (300.0, dt.date(2026, 11, 11), "EXPORT_CONTROL_LICENCE", Severity.BLOCK),
        (290.0, dt.date(2026, 11, 11), "EXPORT_CONTROL_NEAR_THRESHOLD", Severity.WARN),
    ],
)
def test_export_control_by_date(energy, today, expected, severity):
    it = item(sgtin("SN1"), rec=record("SN1", specific_energy_wh_per_kg=energy), on=line())
    (finding,) = run("customs.export_control", context([it], today=today))
    assert (finding.code, finding.severity) == (expected, severity)


def test_export_control_quiet_below_the_margin():
    it = item(sgtin("SN1"), rec=record("SN1", specific_energy_wh_per_kg=170.0), on=line())
    assert run("customs.export_control", context([it])) == []


@pytest.mark.parametrize(
    ("declared", "rate"),
    [(dt.date(2026, 3, 31), "9%"), (dt.date(2026, 4, 1), "6%"), (dt.date(2027, 1, 1), "0%")],
)
def test_vat_rebate_by_declaration_date(declared, rate):
    ctx = context([item(sgtin("SN1"), on=line())], today=declared)
    (finding,) = run("customs.vat_rebate", ctx)
    assert finding.evidence["rate"] == rate


def test_dg_packaging_reminder_unless_cited():
    it = item(sgtin("SN1"), on=line())
    assert codes(run("customs.dg_packaging", context([it]))) == ["DG_PACKAGING_CERT_MISSING"]
    cited = context([it], header={"dg_packaging_cert": "CIQ-1"})
    assert run("customs.dg_packaging", cited) == []


# --- dangerous goods -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("un", "rec_changes", "expected"),
    [
        ("UN3480", {}, []),
        ("UN 3480", {}, []),
        ("UN1234", {}, ["UN_NUMBER_NOT_BATTERY"]),
        ("UN3090", {}, ["UN_NUMBER_MISMATCH"]),
        ("UN3536", {"category": "ci_ess", "level": "system"}, []),
        ("UN3536", {"category": "ci_ess", "level": "module"}, []),
        ("UN3536", {}, ["UN_NUMBER_MISMATCH"]),  # a traction pack is not installed in a CTU
        ("UN3480", {"chemistry": "NA_ION"}, ["UN_NUMBER_MISMATCH"]),
        (None, {}, ["UN_NUMBER_MISSING"]),
    ],
)
def test_un_number_table(un, rec_changes, expected):
    it = item(sgtin("SN1"), rec=record("SN1", **rec_changes), on=line(un_number=un))
    assert codes(run("dangerous_goods.un_number", context([it]))) == expected


@pytest.mark.parametrize(
    ("mode", "un", "net", "expected"),
    [
        ("sea", "UN3536", 2000.0, []),
        ("air", "UN3536", 20.0, ["AIR_UN3536_FORBIDDEN"]),
        ("air", "UN3480", 20.0, ["AIR_CARGO_AIRCRAFT_ONLY"]),
        ("air", "UN3481", 36.0, ["AIR_PACKAGE_OVER_LIMIT"]),
    ],
)
def test_air_table(mode, un, net, expected):
    ctx = context(lines=[line(un_number=un, net_kg=net, gross_kg=net + 1)], mode=mode)
    assert codes(run("dangerous_goods.air", ctx)) == expected


@pytest.mark.parametrize(
    ("soc", "expected"),
    [("30%", []), ("25", []), ("31 %", ["AIR_SOC_TOO_HIGH"]), (None, ["AIR_SOC_NOT_STATED"])],
)
def test_state_of_charge_by_air(soc, expected):
    extra = {"state_of_charge": soc} if soc else {}
    ctx = context(lines=[line(extra=extra)], mode="air")
    assert codes(run("dangerous_goods.state_of_charge", ctx)) == expected
    assert run("dangerous_goods.state_of_charge", context(lines=[line()], mode="sea")) == []


def test_un38_3_missing_once_per_model():
    items = [
        item(sgtin(f"SN{i}"), rec=record(f"SN{i}", un38_3_summary_ref=None), on=line(8 + i))
        for i in range(5)
    ]
    (finding,) = run("dangerous_goods.un38_3", context(items))
    assert finding.evidence["count"] == 5


def test_wh_rating_from_record_or_manifest():
    known = item(sgtin("SN1"), on=line())
    unknown = item(sgtin("SN2"), rec=record("SN2", rated_energy_kwh=None), on=line(9))
    assert run("dangerous_goods.wh_rating", context([known])) == []
    assert codes(run("dangerous_goods.wh_rating", context([unknown]))) == ["WH_RATING_MISSING"]


# --- EU --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "severity"),
    [(dt.date(2027, 2, 17), Severity.WARN), (dt.date(2027, 2, 18), Severity.BLOCK)],
)
def test_passport_turns_from_warn_to_block_on_2027_02_18(today, severity):
    rec = record("SN1", passport_url=None)
    (finding,) = run("eu.passport", context([item(sgtin("SN1"), rec=rec, on=line())], today=today))
    assert (finding.code, finding.severity) == ("EU_PASSPORT_MISSING", severity)


@pytest.mark.parametrize(
    ("category", "energy", "expected"),
    [
        ("ci_ess", 2.5, ["EU_PASSPORT_MISSING"]),
        ("ci_ess", 1.5, []),  # industrial at or below 2 kWh: no passport
        ("nev_traction", 1.0, ["EU_PASSPORT_MISSING"]),
        ("portable", 0.1, []),
    ],
)
def test_passport_scope_by_category_and_2kwh(category, energy, expected):
    rec = record("SN1", category=category, rated_energy_kwh=energy, passport_url=None)
    ctx = context([item(sgtin("SN1"), rec=rec, on=line())])
    assert codes(run("eu.passport", ctx)) == expected


def test_eu_rules_stay_quiet_outside_the_eu():
    rec = record("SN1", passport_url=None, doc_url=None, category="residential_ess")
    it = item(sgtin("SN1"), rec=rec, on=line(destination="US"))
    ctx = context([it], destination="US")
    for rule in ("eu.passport", "eu.conformity", "eu.eori", "eu.residential_ess"):
        assert run(rule, ctx) == []


def test_residential_ess_to_the_eu_is_industrial():
    rec = record("SN1", category="residential_ess")
    ctx = context([item(sgtin("SN1"), rec=rec, on=line())])
    assert codes(run("eu.residential_ess", ctx)) == ["EU_RESIDENTIAL_ESS_INDUSTRIAL"]


def test_eori_found_in_consignee_text_or_missing():
    it = item(sgtin("SN1"), on=line())
    assert run("eu.eori", context([it], header={"consignee": "X GmbH EORI DE1234"})) == []
    assert codes(run("eu.eori", context([it], header={"consignee": "X GmbH"}))) == [
        "EU_EORI_MISSING"
    ]


def test_carbon_footprint_only_once_the_date_is_set_and_reached():
    it = item(sgtin("SN1"), on=line())
    assert run("eu.carbon_footprint", context([it])) == []
    on = {"rules": {"eu.carbon_footprint": {"params": {"applies_from": "2026-01-01"}}}}
    assert codes(run("eu.carbon_footprint", context([it]), on)) == ["EU_CARBON_FOOTPRINT_MISSING"]


# --- governance ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("registry", ["RULESET_AND_PLATFORM"]),
        ("simulator", ["RULESET_AND_PLATFORM", "SIMULATED_PLATFORM"]),
    ],
)
def test_governance_states_where_answers_came_from(source, expected):
    assert codes(run("governance.versions", context(platform_source=source))) == expected


# --- added checks ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "mode", "expected"),
    [
        ("Battery pack", "sea", []),
        ("Damaged battery pack 损坏", "sea", [("damaged", Severity.WARN)]),
        ("Defective module", "air", [("damaged", Severity.BLOCK)]),
        ("Prototype cells", "sea", [("prototype", Severity.WARN)]),
        ("废旧电池", "sea", [("waste", Severity.WARN)]),
        ("Wastewater pump battery", "sea", []),  # whole words only
    ],
)
def test_special_batteries(description, mode, expected):
    ctx = context(lines=[line(description=description)], mode=mode)
    findings = run("dangerous_goods.special", ctx)
    assert [(f.evidence["kind"], f.severity) for f in findings] == expected


@pytest.mark.parametrize(
    ("hs", "description", "dest", "expected"),
    [
        ("850760", "Lithium-ion battery pack 75 kWh", "DE", []),
        ("8507", "Lithium-ion battery pack 75 kWh", "DE", ["EU_ENTRY_SUMMARY_DATA"]),
        ("85076000", "Batteries", "DE", ["EU_ENTRY_SUMMARY_DATA"]),
        ("8507", "Batteries", "US", []),
    ],
)
def test_eu_entry_summary_data(hs, description, dest, expected):
    ctx = context(lines=[line(hs_code=hs, description=description, destination=dest)])
    assert codes(run("eu.entry_summary", ctx)) == expected


def test_documents_disagreeing_on_total_quantity_warn():
    invoice = Document(id="doc-2", filename="inv.xlsx", media_type="x", sha256="2")
    packing = Extraction(document=DOC, lines=(line(8, quantity=2.0), line(9, quantity=3.0)))
    same = Extraction(document=invoice, lines=(line(8, quantity=5.0),))
    other = Extraction(document=invoice, lines=(line(8, quantity=4.0),))
    assert run("manifest.document_totals", context(extractions=[packing, same])) == []
    assert codes(run("manifest.document_totals", context(extractions=[packing, other]))) == [
        "DOCUMENT_TOTALS_DIFFER"
    ]


def test_mixed_scope_shipment_is_reported():
    inside = item(sgtin("SN1"), on=line(8))
    outside = item(sgtin("SN2"), rec=record("SN2", category="residential_ess"), on=line(9))
    (finding,) = run("manifest.mixed_scope", context([inside, outside]))
    assert finding.severity is Severity.INFO
    assert (finding.evidence["inside"], finding.evidence["outside"]) == (1, 1)
    assert run("manifest.mixed_scope", context([inside])) == []
