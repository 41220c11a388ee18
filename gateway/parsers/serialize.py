"""Extraction <-> JSON, so the sandbox child can hand its result to the parent faithfully."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from gateway.domain import (
    CodeOccurrence,
    Document,
    Extraction,
    ExtractionMethod,
    ExtractionProblem,
    ManifestLine,
    Severity,
    SourceRef,
)


def _ref(ref: SourceRef | None) -> dict[str, Any] | None:
    if ref is None:
        return None
    return {
        "document_id": ref.document_id,
        "page": ref.page,
        "sheet": ref.sheet,
        "row": ref.row,
        "cell": ref.cell,
        "bbox": list(ref.bbox) if ref.bbox is not None else None,
        "line": ref.line,
    }


def _occ(occ: CodeOccurrence) -> dict[str, Any]:
    return {
        "raw": occ.raw,
        "source": _ref(occ.source),
        "method": occ.method.value,
        "symbology": occ.symbology,
        "quad": [list(p) for p in occ.quad] if occ.quad is not None else None,
        "confidence": occ.confidence,
    }


def extraction_to_dict(ex: Extraction) -> dict[str, Any]:
    """A JSON-ready dict holding every field of the extraction."""
    d = ex.document
    return {
        "document": {
            "id": d.id,
            "filename": d.filename,
            "media_type": d.media_type,
            "sha256": d.sha256,
            "size": d.size,
        },
        "header": dict(ex.header),
        "lines": [
            {
                "source": _ref(line.source),
                "line_no": line.line_no,
                "description": line.description,
                "model": line.model,
                "quantity": line.quantity,
                "unit": line.unit,
                "lot": line.lot,
                "hs_code": line.hs_code,
                "un_number": line.un_number,
                "net_kg": line.net_kg,
                "gross_kg": line.gross_kg,
                "carton": line.carton,
                "pallet": line.pallet,
                "container": line.container,
                "destination": line.destination,
                "extra": dict(line.extra),
                "codes": [_occ(c) for c in line.codes],
                "field_sources": {k: _ref(v) for k, v in line.field_sources.items()},
            }
            for line in ex.lines
        ],
        "loose_codes": [_occ(c) for c in ex.loose_codes],
        "problems": [
            {
                "kind": p.kind,
                "message": p.message,
                "source": _ref(p.source),
                "line_no": p.line_no,
                "severity": p.severity.value,
            }
            for p in ex.problems
        ],
        "pages": ex.pages,
        "method": ex.method,
    }


def _load_ref(d: Mapping[str, Any] | None) -> SourceRef | None:
    if d is None:
        return None
    bbox = d.get("bbox")
    return SourceRef(
        document_id=str(d["document_id"]),
        page=d.get("page"),
        sheet=d.get("sheet"),
        row=d.get("row"),
        cell=d.get("cell"),
        bbox=(float(bbox[0]), float(bbox[1]), float(bbox[2]), float(bbox[3])) if bbox else None,
        line=d.get("line"),
    )


def _need_ref(d: Mapping[str, Any] | None) -> SourceRef:
    ref = _load_ref(d)
    if ref is None:
        msg = "Serialized code or line has no source reference."
        raise ValueError(msg)
    return ref


def _load_occ(d: Mapping[str, Any]) -> CodeOccurrence:
    quad = d.get("quad")
    return CodeOccurrence(
        raw=str(d["raw"]),
        source=_need_ref(d["source"]),
        method=ExtractionMethod(d["method"]),
        symbology=d.get("symbology"),
        quad=tuple((float(p[0]), float(p[1])) for p in quad) if quad else None,
        confidence=d.get("confidence"),
    )


def extraction_from_dict(d: Mapping[str, Any]) -> Extraction:
    """The inverse of `extraction_to_dict`."""
    doc = d["document"]
    return Extraction(
        document=Document(
            id=doc["id"],
            filename=doc["filename"],
            media_type=doc["media_type"],
            sha256=doc["sha256"],
            size=doc["size"],
        ),
        header=dict(d.get("header") or {}),
        lines=tuple(
            ManifestLine(
                source=_need_ref(line["source"]),
                line_no=line.get("line_no"),
                description=line.get("description"),
                model=line.get("model"),
                quantity=line.get("quantity"),
                unit=line.get("unit"),
                lot=line.get("lot"),
                hs_code=line.get("hs_code"),
                un_number=line.get("un_number"),
                net_kg=line.get("net_kg"),
                gross_kg=line.get("gross_kg"),
                carton=line.get("carton"),
                pallet=line.get("pallet"),
                container=line.get("container"),
                destination=line.get("destination"),
                extra=dict(line.get("extra") or {}),
                codes=tuple(_load_occ(c) for c in line.get("codes") or ()),
                field_sources={
                    k: _need_ref(v) for k, v in (line.get("field_sources") or {}).items()
                },
            )
            for line in d.get("lines") or ()
        ),
        loose_codes=tuple(_load_occ(c) for c in d.get("loose_codes") or ()),
        problems=tuple(
            ExtractionProblem(
                kind=p["kind"],
                message=p["message"],
                source=_load_ref(p.get("source")),
                line_no=p.get("line_no"),
                severity=Severity(p["severity"]),
            )
            for p in d.get("problems") or ()
        ),
        pages=d.get("pages"),
        method=d.get("method"),
    )


def dumps(ex: Extraction) -> str:
    """Compact JSON text of an extraction."""
    return json.dumps(
        extraction_to_dict(ex), ensure_ascii=False, separators=(",", ":"), default=_default
    )


def loads(text: str | bytes) -> Extraction:
    """Parse JSON text made by `dumps`."""
    return extraction_from_dict(json.loads(text))


def _default(value: object) -> object:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    msg = f"Cannot serialize {type(value).__name__} value {value!r}."
    raise TypeError(msg)
