"""The report as JSON: a stable, documented schema (see docs/report.md), and back again.

This is a public format, not the records' own form (`gateway.codec`, which the service stores):
a finding's messages and fixes are {"en", "zh"} pairs, its places are `locations` carrying
readable text, keys follow the documented order (`rule_version` right after `rule_id`,
`shipment` and `counts` before `documents`), evidence and unit rows are printed as they are,
and there is a `schema_version`. So findings and the report are written out here by hand:
what users parse changes only when this module does. Documents, and the place fields of a
location, have exactly the records' shape and go through `gateway.codec`; a field added to
`Document` or `SourceRef` appears here too, which schema 1 allows, while renaming or removing
one is a schema change (the golden files catch it).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from gateway.codec import from_data, to_data
from gateway.domain import Document, Finding, Report, Severity, SourceRef, Verdict
from gateway.reports.model import describe_ref, documents_by_id

SCHEMA_VERSION = "1"


def _ref(ref: SourceRef, documents: Mapping[str, Document]) -> dict[str, object]:
    return {
        **to_data(ref),
        "text_en": describe_ref(ref, documents, "en"),
        "text_zh": describe_ref(ref, documents, "zh"),
    }


def _finding(f: Finding, documents: Mapping[str, Document]) -> dict[str, object]:
    return {
        "rule_id": f.rule_id,
        "rule_version": f.rule_version,
        "code": f.code,
        "severity": str(f.severity),
        "source": f.source,
        "message": {"en": f.message_en, "zh": f.message_zh},
        "fix": {"en": f.fix_en, "zh": f.fix_zh},
        "code_raw": f.code_raw,
        "span": list(f.span) if f.span is not None else None,
        "locations": [_ref(r, documents) for r in f.refs],
        "evidence": dict(f.evidence),
    }


def report_to_dict(report: Report) -> dict[str, object]:
    """The report as plain JSON-ready data (schema version `SCHEMA_VERSION`)."""
    documents = documents_by_id(report)
    return {
        "schema_version": SCHEMA_VERSION,
        "shipment_id": report.shipment_id,
        "verdict": str(report.verdict),
        "generated_at": report.generated_at.isoformat(),
        "ruleset": report.ruleset,
        "platform_contract": report.platform_contract,
        "platform_source": report.platform_source,
        "shipment": dict(report.shipment),
        "counts": dict(report.counts),
        "documents": [to_data(d) for d in report.documents],
        "findings": [_finding(f, documents) for f in report.findings],
        "crashed_rules": list(report.crashed_rules),
        "units": [dict(u) for u in report.units],
        "timings": dict(report.timings),
        # a re-check's report: its version and what changed against the previous one
        **(
            {"version": report.version, "changes": dict(report.changes)}
            if report.changes is not None
            else {}
        ),
    }


# Above this many findings and unit rows together, each finding and each unit row is written
# on one line (see `render_json`).
INDENTED_ROWS = 200
_ROW = json.JSONEncoder(ensure_ascii=False, default=str, separators=(", ", ": "))


def _indented(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def render_json(report: Report) -> str:
    """The report as JSON text: keys in schema order, UTF-8 characters kept, 2-space indent.

    A report of more than `INDENTED_ROWS` findings and unit rows is indented the same way
    but for its rows: each finding and each unit row is one line. Indenting every field of a
    20,000-unit report made 220,000 lines, and took Python's own JSON encoder (an indent
    rules out the C one) 0.3-0.4 s; one row a line is 20,000 lines a person can search and
    compare line by line, written by the C encoder in a fifth of the time.
    """
    data = report_to_dict(report)
    if len(report.findings) + len(report.units) <= INDENTED_ROWS:
        return _indented(data) + "\n"
    parts = []
    for key, value in data.items():
        if key in ("findings", "units") and isinstance(value, list) and value:
            text = "[\n    " + ",\n    ".join(map(_ROW.encode, value)) + "\n  ]"
        else:
            # JSON text holds no line break inside a string: every one is between tokens
            text = _indented(value).replace("\n", "\n  ")
        parts.append(f"  {_ROW.encode(key)}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def report_from_dict(data: Mapping[str, Any]) -> Report:
    """Rebuild a `Report` from `report_to_dict` output (e.g. a stored report).

    Raises:
        ValueError: the data is not a report of a known schema version.
    """
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        msg = f"Unsupported report schema_version {version!r}: expected {SCHEMA_VERSION!r}."
        raise ValueError(msg)
    findings = tuple(
        Finding(
            rule_id=f["rule_id"],
            code=f["code"],
            severity=Severity(f["severity"]),
            message_en=f["message"]["en"],
            message_zh=f["message"]["zh"],
            fix_en=f["fix"]["en"],
            fix_zh=f["fix"]["zh"],
            source=f["source"],
            refs=tuple(from_data(SourceRef, r) for r in f["locations"]),
            code_raw=f["code_raw"],
            span=(f["span"][0], f["span"][1]) if f["span"] is not None else None,
            evidence=dict(f["evidence"]),
            rule_version=f["rule_version"],
        )
        for f in data["findings"]
    )
    return Report(
        shipment_id=data["shipment_id"],
        verdict=Verdict(data["verdict"]),
        generated_at=dt.datetime.fromisoformat(data["generated_at"]),
        ruleset=data["ruleset"],
        findings=findings,
        counts=dict(data["counts"]),
        documents=tuple(from_data(Document, d) for d in data["documents"]),
        platform_contract=data["platform_contract"],
        platform_source=data["platform_source"],
        crashed_rules=tuple(data["crashed_rules"]),
        timings=dict(data["timings"]),
        shipment=dict(data["shipment"]),
        units=tuple(dict(u) for u in data["units"]),
        version=int(data.get("version", 1)),
        changes=dict(data["changes"]) if data.get("changes") is not None else None,
    )
