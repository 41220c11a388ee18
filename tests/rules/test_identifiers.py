"""Identifier rules: syntax, check digits with near-miss help, unit level, GB dates, labels."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from gateway.domain import LookupStatus, Scheme, Severity
from tests.rules.rule_factories import (
    GB_RAW,
    GTIN,
    codes,
    context,
    gb_item,
    item,
    line,
    record,
    run,
    sgtin,
)

BAD_CHECK = f"(01){GTIN[:-1]}{(int(GTIN[-1]) + 1) % 10}(21)SN1"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (sgtin("SN1"), []),
        (BAD_CHECK, ["CHECK_DIGIT_INVALID"]),
        ("garbage!", ["CODE_SYNTAX_INVALID"]),
        (f"(01){GTIN}(99)X(21)", ["CODE_SYNTAX_INVALID"]),
    ],
)
def test_syntax_table(raw, expected):
    findings = run("identifiers.syntax", context([item(raw, status=None, on=line())]))
    assert codes(findings) == expected


def test_check_digit_finding_carries_span_of_the_bad_digit():
    (finding,) = run("identifiers.syntax", context([item(BAD_CHECK, status=None, on=line())]))
    assert finding.severity is Severity.BLOCK
    assert finding.span is not None
    start, end = finding.span
    assert BAD_CHECK[start:end] == BAD_CHECK[17]  # the 14th GTIN digit after "(01)"


def test_check_digit_suggests_the_registered_neighbour_when_exactly_one():
    good = item(sgtin("SN1"), on=line(8))
    bad = item(BAD_CHECK, status=None, on=line(9))
    (finding,) = run("identifiers.syntax", context([good, bad]))
    assert finding.evidence["suggestion"] == sgtin("SN1")
    assert sgtin("SN1") in finding.fix_en
    assert sgtin("SN1") in finding.fix_zh


def test_no_suggestion_when_two_registered_codes_are_one_keystroke_away():
    a = item(sgtin("SN1"), on=line(8))
    b = item(sgtin("SN3"), on=line(9))
    typo = item(f"(01){GTIN}(21)SN2", status=LookupStatus.NOT_FOUND, on=line(10))
    (finding,) = run("registration.found", context([a, b, typo]))
    assert finding.evidence["suggestion"] == ""


def test_gtin_only_code_is_not_a_unit_identifier():
    findings = run("identifiers.unit_level", context([item(f"(01){GTIN}", on=line())]))
    assert codes(findings) == ["UNIT_IDENTIFIER_MISSING"]


def test_lot_coded_lines_give_one_warning_per_gtin():
    items = [item(f"(01){GTIN}(10)L{i}", status=None, on=line(8 + i)) for i in range(12)]
    (finding,) = run("identifiers.unit_level", context(items))
    assert finding.severity is Severity.WARN
    assert finding.evidence["count"] == 12


def test_gtin_beside_a_serialised_code_on_the_same_line_is_fine():
    shared = line()
    ctx = context([item(f"(01){GTIN}", on=shared), item(sgtin("SN1"), on=shared)])
    assert run("identifiers.unit_level", ctx) == []


@pytest.mark.parametrize(
    ("registered", "today", "expected"),
    [
        (dt.date(2026, 1, 1), dt.date(2026, 11, 20), []),
        (dt.date(2026, 1, 2), dt.date(2026, 11, 20), ["GB_DATE_MISMATCH"]),
        (None, dt.date(2026, 11, 20), []),
        (dt.date(2026, 1, 1), dt.date(2026, 1, 1), []),  # produced today: plausible
        (dt.date(2026, 1, 1), dt.date(2025, 12, 31), ["GB_DATE_IN_FUTURE"]),
    ],
)
def test_gb_date_table(registered, today, expected):
    it = gb_item(produced=dt.date(2026, 1, 1), rec=record("GB", manufacturing_date=registered))
    assert codes(run("identifiers.gb_date", context([it], today=today))) == expected


@pytest.mark.parametrize(
    ("category", "letter", "expected"),
    [
        ("ci_ess", "K", []),
        ("ci_ess", "P", ["GB45565_TYPE_NOT_ESS"]),
        ("nev_traction", "P", []),
    ],
)
def test_gb45565_type_letter_for_storage(category, letter, expected):
    it = gb_item(scheme=Scheme.GB45565, product_type=letter, rec=record("GB", category=category))
    assert codes(run("identifiers.gb45565_type", context([it]))) == expected


def test_label_codes_on_different_records_block():
    a = item(sgtin("SN1"), rec=record("SN1", record_id="R-A"), label="L1")
    b = gb_item(rec=record("GB", record_id="R-B"), label="L1")
    (finding,) = run("identifiers.label_same_record", context([a, b]))
    assert finding.code == "LABEL_CODES_DIFFERENT_RECORDS"
    assert finding.severity is Severity.BLOCK


def test_label_codes_on_the_same_record_pass():
    shared = record("SN1", record_id="R-A", gb_code=GB_RAW)
    a = item(sgtin("SN1"), rec=shared, label="L1")
    b = gb_item(rec=shared, label="L1")
    assert run("identifiers.label_same_record", context([a, b])) == []


@pytest.mark.parametrize(("confidence", "expected"), [(0.5, ["LOW_READ_CONFIDENCE"]), (0.95, [])])
def test_low_ocr_confidence_needs_review(confidence, expected):
    it = item(sgtin("SN1"), on=line(), confidence=confidence)
    assert codes(run("identifiers.read_quality", context([it]))) == expected


def test_threshold_is_a_ruleset_parameter():
    it = item(sgtin("SN1"), on=line(), confidence=0.7)
    override = {"rules": {"identifiers.read_quality": {"params": {"min_confidence": 0.6}}}}
    assert run("identifiers.read_quality", context([it]), override) == []


def test_sscc_on_two_pallets_warns():
    sscc = "(00)" + "0" + "690123400000000" + "01"
    from gateway.gs1 import decode

    if not decode(sscc).valid:  # make the SSCC valid whatever the check digit
        body = sscc[4:-1]
        total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
        sscc = f"(00){body}{(10 - total % 10) % 10}"
    a = item(sscc, status=None, on=line(8, pallet="P1"))
    b = item(sscc, status=None, on=line(9, pallet="P2"))
    assert codes(run("identifiers.sscc_unique", context([a, b]))) == ["SSCC_DUPLICATE"]
    c = item(sscc, status=None, on=dataclasses.replace(line(9), pallet="P1"))
    assert run("identifiers.sscc_unique", context([a, c])) == []
