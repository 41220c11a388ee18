"""A `Report` to and from plain JSON data, so the stored report can be rendered again later.

The stored form is the service's own (not the public `render_json` output, which may change
with the reports' presentation). Values in `evidence` and `units` that JSON cannot carry are
stored as text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from gateway.domain import Document, Finding, Report, Severity, SourceRef, Verdict

CODEC_VERSION = 1


def _plain(value: object) -> Any:
    """A JSON-ready copy of `value` (text for anything JSON has no type for)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def _ref(ref: SourceRef) -> dict[str, Any]:
    return {
        "document_id": ref.document_id,
        "page": ref.page,
        "sheet": ref.sheet,
        "row": ref.row,
        "cell": ref.cell,
        "bbox": list(ref.bbox) if ref.bbox is not None else None,
        "line": ref.line,
    }


def _ref_from(data: Mapping[str, Any]) -> SourceRef:
    bbox = data.get("bbox")
    return SourceRef(
        document_id=str(data["document_id"]),
        page=data.get("page"),
        sheet=data.get("sheet"),
        row=data.get("row"),
        cell=data.get("cell"),
        bbox=(float(bbox[0]), float(bbox[1]), float(bbox[2]), float(bbox[3])) if bbox else None,
        line=data.get("line"),
    )


def report_to_data(report: Report) -> dict[str, Any]:
    """The stored form of `report`."""
    return {
        "codec": CODEC_VERSION,
        "shipment_id": report.shipment_id,
        "verdict": str(report.verdict),
        "generated_at": report.generated_at.isoformat(),
        "ruleset": report.ruleset,
        "findings": [
            {
                "rule_id": f.rule_id,
                "code": f.code,
                "severity": str(f.severity),
                "message_en": f.message_en,
                "message_zh": f.message_zh,
                "fix_en": f.fix_en,
                "fix_zh": f.fix_zh,
                "source": f.source,
                "refs": [_ref(r) for r in f.refs],
                "code_raw": f.code_raw,
                "span": list(f.span) if f.span is not None else None,
                "evidence": _plain(f.evidence),
                "rule_version": f.rule_version,
            }
            for f in report.findings
        ],
        "counts": {str(k): int(v) for k, v in report.counts.items()},
        "documents": [
            {
                "id": d.id,
                "filename": d.filename,
                "media_type": d.media_type,
                "sha256": d.sha256,
                "size": d.size,
            }
            for d in report.documents
        ],
        "platform_contract": report.platform_contract,
        "platform_source": report.platform_source,
        "crashed_rules": list(report.crashed_rules),
        "timings": {str(k): float(v) for k, v in report.timings.items()},
        "shipment": {str(k): str(v) for k, v in report.shipment.items()},
        "units": [_plain(u) for u in report.units],
    }


def report_from_data(data: Mapping[str, Any]) -> Report:
    """Rebuild the `Report` stored by `report_to_data`."""
    return Report(
        shipment_id=str(data["shipment_id"]),
        verdict=Verdict(data["verdict"]),
        generated_at=dt.datetime.fromisoformat(data["generated_at"]),
        ruleset=str(data["ruleset"]),
        findings=tuple(
            Finding(
                rule_id=f["rule_id"],
                code=f["code"],
                severity=Severity(f["severity"]),
                message_en=f["message_en"],
                message_zh=f["message_zh"],
                fix_en=f.get("fix_en", ""),
                fix_zh=f.get("fix_zh", ""),
                source=f.get("source", ""),
                refs=tuple(_ref_from(r) for r in f.get("refs", [])),
                code_raw=f.get("code_raw"),
                span=(int(f["span"][0]), int(f["span"][1])) if f.get("span") else None,
                evidence=dict(f.get("evidence") or {}),
                rule_version=int(f.get("rule_version", 1)),
            )
            for f in data.get("findings", [])
        ),
        counts=dict(data.get("counts", {})),
        documents=tuple(
            Document(
                id=d["id"],
                filename=d["filename"],
                media_type=d["media_type"],
                sha256=d["sha256"],
                size=int(d.get("size", 0)),
            )
            for d in data.get("documents", [])
        ),
        platform_contract=str(data.get("platform_contract", "assumed-v1")),
        platform_source=str(data.get("platform_source", "registry")),
        crashed_rules=tuple(data.get("crashed_rules", [])),
        timings=dict(data.get("timings", {})),
        shipment=dict(data.get("shipment", {})),
        units=tuple(dict(u) for u in data.get("units", [])),
    )
