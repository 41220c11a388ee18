"""The pipeline: documents that fail, platform outages, verdicts, and the code-check path."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from gateway.domain import (
    CodeOccurrence,
    Document,
    ExtractionMethod,
    Lookup,
    LookupStatus,
    Report,
    SourceRef,
    Verdict,
)
from gateway.errors import CorruptDocument, PlatformUnavailable
from gateway.pipeline import (
    DocumentInput,
    ShipmentFacts,
    UnverifiedPlatform,
    check_codes,
    check_shipment,
)
from gateway.platform_client.local import InMemoryRegistry
from samples.shipments import FIXED_CLOCK, SAMPLES, SampleShipment, pack_record
from tests.rules.rule_factories import sgtin


def _run(sample: SampleShipment, platform: Any, **kwargs: Any) -> Report:
    return check_shipment(
        sample.documents,
        platform=platform,
        facts=sample.facts,
        extract=sample.extract,
        clock=lambda: FIXED_CLOCK,
        **kwargs,
    )


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_shipments_give_their_expected_verdict_and_findings(name):
    sample = SAMPLES[name]()
    report = _run(sample, InMemoryRegistry(sample.records))
    assert report.verdict is sample.expected_verdict
    assert sample.expected_codes <= {f.code for f in report.findings}
    assert report.crashed_rules == ()
    assert report.ruleset.startswith("default@")


def test_platform_outage_makes_units_unverified_and_never_clear():
    class Down:
        source = "platform"

        def lookup(self, keys):
            msg = "platform timed out"
            raise PlatformUnavailable(msg)

    sample = SAMPLES["clean_to_germany"]()
    report = _run(sample, Down())
    assert report.verdict is Verdict.HOLD
    assert report.counts["unverified"] == report.counts["units"] == 3
    assert "UNITS_UNVERIFIED" in {f.code for f in report.findings}


def test_a_platform_that_skips_a_key_does_not_verify_it():
    sample = SAMPLES["clean_to_germany"]()
    registry = InMemoryRegistry(sample.records)

    class Partial:
        source = "platform"

        def lookup(self, keys):
            answers = dict(registry.lookup(keys))
            answers.pop(sorted(keys)[0])
            return answers

    report = _run(sample, Partial())
    assert report.verdict is Verdict.HOLD
    assert report.counts["unverified"] == 1


def test_no_registry_is_hold_at_best():
    sample = SAMPLES["clean_to_germany"]()
    report = _run(sample, UnverifiedPlatform())
    assert report.verdict is Verdict.HOLD
    assert report.platform_source == "none"


def test_an_unusable_document_is_a_finding_and_the_others_still_run():
    sample = SAMPLES["clean_to_germany"]()
    broken = DocumentInput(
        Document(id="doc-9", filename="scan.pdf", media_type="application/pdf", sha256="9"),
        b"%PDF-garbage",
    )

    def extract(item):
        if item.document.id == "doc-9":
            msg = "Failed to read 'scan.pdf' as PDF: no xref table."
            raise CorruptDocument(msg)
        return sample.extract(item)

    report = check_shipment(
        [*sample.documents, broken],
        platform=InMemoryRegistry(sample.records),
        facts=sample.facts,
        extract=extract,
        clock=lambda: FIXED_CLOCK,
    )
    rejected = [f for f in report.findings if f.code == "DOCUMENT_REJECTED"]
    assert len(rejected) == 1
    assert "scan.pdf" in rejected[0].message_en
    assert report.verdict is Verdict.BLOCK
    assert report.counts["verified"] == 3  # the good manifest was still checked
    assert report.counts["documents_rejected"] == 1


def test_a_reader_bug_is_contained_like_a_bad_document():
    sample = SAMPLES["clean_to_germany"]()

    def extract(item):
        raise RuntimeError("boom")

    report = check_shipment(
        sample.documents, platform=UnverifiedPlatform(), facts=sample.facts, extract=extract
    )
    assert [f.code for f in report.findings if f.severity == "block"] == ["DOCUMENT_REJECTED"]
    assert report.counts["documents_rejected"] == 1


def test_history_blocks_codes_already_exported():
    sample = SAMPLES["clean_to_germany"]()

    class History:
        def exported(self, keys):
            return {k: "SHP-2026-0001" for k in keys if k.endswith("PK0002")}

    report = _run(sample, InMemoryRegistry(sample.records), history=History())
    assert report.verdict is Verdict.BLOCK
    assert [f.code for f in report.findings if f.severity == "block"] == ["UNIT_ALREADY_DECLARED"]


def test_check_codes_validates_one_label_together():
    gb = "ABCPE0110000011B10000001"
    rec_a = pack_record("PK0001")
    rec_b = pack_record("PK0002", gb_code=gb)
    codes = [
        CodeOccurrence(
            sgtin("PK0001", rec_a.gtin or ""), SourceRef("label"), ExtractionMethod.BARCODE_IMAGE
        ),
        CodeOccurrence(gb, SourceRef("label"), ExtractionMethod.BARCODE_IMAGE),
    ]
    report = check_codes(
        codes,
        platform=InMemoryRegistry([rec_a, rec_b]),
        facts=ShipmentFacts(shipment_id="scan-1", destination="DE"),
        clock=lambda: FIXED_CLOCK,
    )
    assert "LABEL_CODES_DIFFERENT_RECORDS" in {f.code for f in report.findings}
    assert report.verdict is Verdict.BLOCK


def test_units_rows_and_counts_agree():
    sample = SAMPLES["problems_to_germany"]()
    report = _run(sample, InMemoryRegistry(sample.records))
    assert report.counts["units"] == len(report.units)
    statuses = [u["lookup"] for u in report.units]
    assert statuses.count("not_found") == report.counts["not_found"] == 1
    assert report.generated_at == FIXED_CLOCK


def test_tenant_ruleset_from_facts_is_applied_and_named():
    sample = SAMPLES["problems_to_germany"]()
    facts = ShipmentFacts(
        shipment_id="S", destination="DE", tenant_ruleset={"packs": {"platform_policy": False}}
    )
    report = check_shipment(
        sample.documents,
        platform=InMemoryRegistry(sample.records),
        facts=facts,
        extract=sample.extract,
        clock=lambda: dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
    )
    assert "+t" in report.ruleset
    assert not {f.code for f in report.findings} & {"UNIT_NOT_REGISTERED", "LOT_MISMATCH"}
    assert report.verdict is Verdict.BLOCK  # duplicates and weights still block


def test_found_without_record_is_not_verified():
    sample = SAMPLES["clean_to_germany"]()

    class Odd:
        source = "platform"

        def lookup(self, keys):
            return {k: Lookup(k, LookupStatus.FOUND, record=None) for k in keys}

    report = _run(sample, Odd())
    assert report.counts["verified"] == 0
    assert report.verdict is Verdict.HOLD


def test_a_platform_offering_candidates_drives_near_miss_help():
    rec = pack_record("PK0101")

    class Indexed:
        source = "platform"

        def lookup(self, keys):
            return InMemoryRegistry([rec]).lookup(keys)

        def candidates(self, prefix):
            key = f"01:{rec.gtin}/21:{rec.serial}"
            return [key] if key.startswith(prefix) else []

    typo = sgtin("PK0110", rec.gtin or "")
    codes = [CodeOccurrence(typo, SourceRef("input"), ExtractionMethod.INPUT)]
    report = check_codes(
        codes, platform=Indexed(), facts=ShipmentFacts(shipment_id="s"), clock=lambda: FIXED_CLOCK
    )
    (finding,) = [f for f in report.findings if f.code == "UNIT_NOT_REGISTERED"]
    assert finding.evidence["suggestion"] == sgtin("PK0101", rec.gtin or "")


@pytest.mark.parametrize(("days", "expected"), [(0, False), (1, False), (3, True)])
def test_answers_are_dated_by_the_pipeline_clock_for_the_age_rule(days, expected):
    sample = SAMPLES["clean_to_germany"]()
    declared = FIXED_CLOCK.date() + dt.timedelta(days=days)
    facts = ShipmentFacts(shipment_id="s", destination="DE", declared_on=declared)
    report = check_shipment(
        sample.documents,
        platform=InMemoryRegistry(sample.records),
        facts=facts,
        extract=sample.extract,
        clock=lambda: FIXED_CLOCK,
    )
    assert ("LOOKUP_AGE" in {f.code for f in report.findings}) is expected
    assert report.verdict is Verdict.CLEAR  # information only
