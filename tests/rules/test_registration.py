"""Registration rules (platform policy pack): found, status and grace, lot, scope, matches."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.domain import LookupStatus, RegistrationStatus, Severity
from tests.rules.rule_factories import codes, context, item, line, record, run, sgtin


def test_unregistered_unit_blocks_and_suggests_the_swapped_serial():
    known = item(sgtin("PK0101"), on=line(8))
    typo = item(sgtin("PK0110"), status=LookupStatus.NOT_FOUND, on=line(9))
    (finding,) = run("registration.found", context([known, typo]))
    assert finding.code == "UNIT_NOT_REGISTERED"
    assert finding.severity is Severity.BLOCK
    assert finding.evidence["suggestion"] == sgtin("PK0101")
    assert finding.span is not None
    start, end = finding.span
    assert sgtin("PK0110")[start:end] == "10"


@pytest.mark.parametrize(
    ("status", "expected", "severity"),
    [
        (RegistrationStatus.REGISTERED, [], None),
        (RegistrationStatus.REVOKED, ["REGISTRATION_STATUS_BLOCKING"], Severity.BLOCK),
        (RegistrationStatus.EXPORTED, ["REGISTRATION_STATUS_BLOCKING"], Severity.BLOCK),
        (RegistrationStatus.SUSPENDED, ["REGISTRATION_STATUS_BLOCKING"], Severity.BLOCK),
        (RegistrationStatus.PENDING_REVIEW, ["REGISTRATION_PENDING_REVIEW"], Severity.WARN),
    ],
)
def test_status_table(status, expected, severity):
    it = item(sgtin("SN1"), rec=record("SN1", status=status), on=line())
    findings = run("registration.status", context([it]))
    assert codes(findings) == expected
    if severity is not None:
        assert findings[0].severity is severity


@pytest.mark.parametrize(
    ("today", "missing", "expected", "severity"),
    [
        # minor omission inside the window: warn
        (dt.date(2026, 9, 30), ("site_gln",), "REGISTRATION_GRACE_PERIOD", Severity.WARN),
        # the window's last day is still inside; the next day is not
        (dt.date(2026, 10, 1), ("site_gln",), "REGISTRATION_NEEDS_CORRECTION", Severity.BLOCK),
        # a major omission never gets grace
        (dt.date(2026, 6, 1), ("lot",), "REGISTRATION_NEEDS_CORRECTION", Severity.BLOCK),
        (dt.date(2026, 6, 1), (), "REGISTRATION_NEEDS_CORRECTION", Severity.BLOCK),
    ],
)
def test_grace_period_edges(today, missing, expected, severity):
    rec = record("SN1", status=RegistrationStatus.NEEDS_CORRECTION, missing_fields=missing)
    findings = run("registration.status", context([item(sgtin("SN1"), rec=rec)], today=today))
    assert codes(findings) == [expected]
    assert findings[0].severity is severity


def test_grace_window_and_minor_fields_are_ruleset_data():
    rec = record("SN1", status=RegistrationStatus.NEEDS_CORRECTION, missing_fields=("lot",))
    override = {
        "rules": {
            "registration.status": {
                "params": {"grace_window_end": "2027-12-31", "minor_fields": ["lot"]}
            }
        }
    }
    ctx = context([item(sgtin("SN1"), rec=rec)])
    assert codes(run("registration.status", ctx, override)) == ["REGISTRATION_GRACE_PERIOD"]


def test_record_grace_until_before_today_ends_grace():
    rec = record(
        "SN1",
        status=RegistrationStatus.NEEDS_CORRECTION,
        missing_fields=("site_gln",),
        grace_until=dt.date(2026, 5, 1),
    )
    ctx = context([item(sgtin("SN1"), rec=rec)], today=dt.date(2026, 6, 1))
    assert codes(run("registration.status", ctx)) == ["REGISTRATION_NEEDS_CORRECTION"]


@pytest.mark.parametrize(
    ("stated", "registered", "expected"),
    [("L1", "L1", []), ("l 1", "L1", []), ("L2", "L1", ["LOT_MISMATCH"]), (None, "L1", [])],
)
def test_lot_table(stated, registered, expected):
    it = item(sgtin("SN1"), rec=record("SN1", lot=registered), on=line(lot=stated))
    findings = run("registration.lot", context([it]))
    assert codes(findings) == expected
    if expected:
        assert findings[0].refs[0].cell == "E8"  # the lot cell, not the code cell


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("nev_traction", []),
        ("ci_ess", []),
        ("residential_ess", ["CATEGORY_OUT_OF_SCOPE"]),
        (None, ["CATEGORY_UNKNOWN"]),
    ],
)
def test_scope_table(category, expected):
    it = item(sgtin("SN1"), rec=record("SN1", category=category), on=line())
    assert codes(run("registration.scope", context([it]))) == expected


def test_scope_reports_once_per_category_not_per_unit():
    items = [
        item(sgtin(f"SN{i}"), rec=record(f"SN{i}", category="residential_ess"), on=line())
        for i in range(50)
    ]
    (finding,) = run("registration.scope", context(items))
    assert finding.evidence["count"] == 50


@pytest.mark.parametrize(
    ("line_dest", "facts_dest", "expected"),
    [
        ("DE", "DE", []),
        ("FR", "DE", ["DESTINATION_MISMATCH"]),
        (None, "FR", ["DESTINATION_MISMATCH"]),
        (None, None, []),
    ],
)
def test_destination_table(line_dest, facts_dest, expected):
    it = item(sgtin("SN1"), on=line(destination=line_dest))
    ctx = context([it], destination=facts_dest)
    assert codes(run("registration.destination", ctx)) == expected


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("EVP-75", []),
        ("evp 75", []),
        ("D-9", []),
        ("EVP-90", ["MODEL_MISMATCH"]),
        (None, ["MODEL_MISSING"]),
    ],
)
def test_model_table(model, expected):
    it = item(sgtin("SN1"), rec=record("SN1", design_id="D-9"), on=line(model=model))
    findings = run("registration.model", context([it]))
    assert codes(findings) == expected
    if expected == ["MODEL_MISSING"]:
        assert findings[0].severity is Severity.WARN


@pytest.mark.parametrize(
    ("description", "expected"),
    [("Battery pack 电池包", []), ("Battery module", ["LEVEL_MISMATCH"]), ("Batteries", [])],
)
def test_level_table(description, expected):
    it = item(sgtin("SN1"), on=line(description=description))
    assert codes(run("registration.level", context([it]))) == expected


@pytest.mark.parametrize(
    ("net", "energy", "expected"),
    [
        (450.0, "75", []),
        (472.0, "78.7 kWh", []),  # within 5 %
        (500.0, "75", ["MASS_MISMATCH"]),
        (450.0, "90", ["ENERGY_MISMATCH"]),
    ],
)
def test_tolerance_table(net, energy, expected):
    it = item(sgtin("SN1"), on=line(net_kg=net, gross_kg=600.0, extra={"rated_energy_kwh": energy}))
    assert codes(run("registration.tolerance", context([it]))) == expected


def test_exporter_compared_with_uscc_in_shipper_text():
    rec = record("SN1", exporter_uscc="91310000MA1K4ABC2X")
    it = item(sgtin("SN1"), rec=rec, on=line())
    same = context([it], header={"shipper": "ACME 91310000MA1K4ABC2X"})
    other = context([it], header={"shipper": "ACME 91440300MA5F00000Q"})
    assert run("registration.exporter", same) == []
    assert codes(run("registration.exporter", other)) == ["EXPORTER_MISMATCH"]


def test_unverified_units_give_one_finding_with_the_count():
    items = [
        item(sgtin(f"SN{i}"), status=LookupStatus.UNVERIFIED, on=line(8 + i)) for i in range(30)
    ]
    (finding,) = run("registration.unverified", context(items))
    assert finding.code == "UNITS_UNVERIFIED"
    assert finding.evidence["count"] == 30
    assert finding.evidence["places"] == 30
    assert len(finding.refs) == 20


def test_platform_policy_pack_can_be_switched_off():
    typo = item(sgtin("SN9"), status=LookupStatus.NOT_FOUND, on=line())
    assert run("registration.found", context([typo]), {"packs": {"platform_policy": False}}) == []
