"""What changed between report versions: matched by what a finding is about, not its place."""

from __future__ import annotations

import dataclasses

from gateway.domain import Report
from gateway.reports import changes
from gateway.reports.html_report import render_html
from gateway.reports.json_report import render_json, report_from_dict, report_to_dict
from tests.reports.test_golden import sample_report
from tests.reports.test_words import latin_left


def recheck() -> tuple[Report, Report]:
    """The problem shipment, then the same shipment after its manifest was corrected (the
    clear sample's documents stand in for the corrected file)."""
    _, before = sample_report("problems_to_germany")
    _, fixed = sample_report("clean_to_germany")
    after = dataclasses.replace(fixed, shipment_id=before.shipment_id)
    found = changes.compare(before, after, 1)
    return before, dataclasses.replace(after, version=2, changes=found)


def test_fixed_new_and_still_open() -> None:
    _, after = recheck()
    found = after.changes
    fixed = {e["code"] for e in found["fixed"]}
    assert {"CHECK_DIGIT_INVALID", "DUPLICATE_UNIT_CODE", "LOT_MISMATCH"} <= fixed
    assert found["verdict"] == {"before": "block", "after": "clear"}
    assert changes.counts(found)["fixed"] == len(found["fixed"])
    # each entry carries both languages and its place in the version it comes from
    entry = next(e for e in found["fixed"] if e["code"] == "CHECK_DIGIT_INVALID")
    assert "校验位" in entry["message"]["zh"]
    assert "Check digit" in entry["message"]["en"]
    assert "J10" in entry["where"]["en"]


def test_a_moved_finding_is_still_open() -> None:
    """The same problem on another row of a corrected file is not 'fixed' and 'new'."""
    _, report = sample_report("problems_to_germany")
    moved = dataclasses.replace(
        report,
        findings=tuple(
            dataclasses.replace(f, refs=tuple(dataclasses.replace(r, row=99) for r in f.refs))
            for f in report.findings
        ),
    )
    found = changes.compare(report, moved, 1)
    assert found["fixed"] == []
    assert found["new"] == []
    assert len(found["still_open"]) == len(
        [f for f in report.findings if str(f.severity) != "info"]
    )


def test_changes_appear_in_html_and_json_in_both_languages() -> None:
    before, after = recheck()
    page = render_html(after, "en")
    assert "What changed since report version 1" in page
    assert "与第 1 版报告相比的变化" in page
    assert "已解决" in page
    assert "Still open (0)" in page
    data = report_to_dict(after)
    assert data["version"] == 2
    assert data["changes"]["fixed"]
    assert report_from_dict(data).changes == after.changes
    assert '"changes"' in render_json(after)
    # the Chinese page of a re-check still holds no English words
    assert latin_left(after, (before,)) == []
