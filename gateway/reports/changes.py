"""What changed between two versions of a shipment's report: fixed, new, still open.

A re-check with corrected documents gives the shipment its next report version. Its blocking
and warning findings are matched with the previous version's by what they are about, not by
where they are: the finding code and its subject (the unit's key, else the code as read, else
the printed line, else the whole shipment), so a corrected file with other rows or another
name still matches. Information findings are left out: they are remarks, not problems.

The result is plain data (stored with the report version, served in JSON) with each finding's
code, severity, message and fix in both languages and its first place, so the page and the HTML
report can show it without the previous version at hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gateway.domain import Finding, Report, Severity
from gateway.reports import model
from gateway.reports.messages import LANGS

CHANGE_KINDS: tuple[str, ...] = ("fixed", "new", "still_open")


def subject(finding: Finding) -> str:
    """What a finding is about, the same in both versions of a shipment's report."""
    evidence = finding.evidence
    for key in ("key", "unit"):
        value = evidence.get(key)
        if value:
            return f"{key}:{value}"
    if finding.code_raw:
        return f"code:{finding.code_raw}"
    line = evidence.get("line") or model.line_of(finding)
    if line:
        return f"line:{line}"
    return "shipment"


def _problems(report: Report) -> dict[tuple[str, str], Finding]:
    found: dict[tuple[str, str], Finding] = {}
    for finding in report.findings:
        if finding.severity is Severity.INFO:
            continue
        found.setdefault((finding.code, subject(finding)), finding)
    return found


def _entry(finding: Finding, report: Report) -> dict[str, Any]:
    documents = model.documents_by_id(report)
    return {
        "code": finding.code,
        "severity": str(finding.severity),
        "subject": subject(finding),
        "message": {lang: model.message(finding, lang) for lang in LANGS},
        "fix": {lang: model.fix(finding, lang) for lang in LANGS},
        "where": {
            lang: model.describe_ref(finding.refs[0], documents, lang) if finding.refs else ""
            for lang in LANGS
        },
    }


def compare(previous: Report, current: Report, previous_version: int) -> dict[str, Any]:
    """The changes from `previous` (version `previous_version`) to `current`."""
    before, after = _problems(previous), _problems(current)
    return {
        "previous_version": previous_version,
        "verdict": {"before": str(previous.verdict), "after": str(current.verdict)},
        "fixed": [_entry(f, previous) for k, f in before.items() if k not in after],
        "new": [_entry(f, current) for k, f in after.items() if k not in before],
        "still_open": [_entry(f, current) for k, f in after.items() if k in before],
    }


def counts(changes: Mapping[str, Any]) -> dict[str, int]:
    """How many findings of each kind of change."""
    return {kind: len(changes.get(kind, ())) for kind in CHANGE_KINDS}


def entries(changes: Mapping[str, Any], kind: str) -> Sequence[Mapping[str, Any]]:
    """The findings of one kind of change."""
    value = changes.get(kind, ())
    return value if isinstance(value, list) else ()
