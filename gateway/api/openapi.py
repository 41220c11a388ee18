"""The OpenAPI 3 document of API v1, served at `/v1/openapi.json`, and its docs page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template

from gateway.api import apidocs
from gateway.domain import TRANSPORT_MODES
from gateway.reports.formats import NAMES as REPORT_FORMATS
from gateway.version import __version__

bp = Blueprint("docs", __name__)


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _upload_body(**fields: Any) -> dict[str, Any]:
    """A multipart request body of `documents` (files) and `fields`, documents required."""
    documents = {"type": "array", "items": {"type": "string", "format": "binary"}}
    schema = {
        "type": "object",
        "properties": {"documents": documents, **fields},
        "required": ["documents"],
    }
    return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}


def _json(ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


ERRORS = {
    "401": _error("Missing, unknown or revoked API key."),
    "404": _error("No such shipment for this account (unknown and foreign ids look the same)."),
    "422": _error("Invalid input; `details` names the fields."),
    "429": _error("Rate limited; see `Retry-After`."),
}
ID = {"name": "shipment_id", "in": "path", "required": True, "schema": {"type": "string"}}


def spec() -> dict[str, Any]:
    """The document (built per call: cheap, and never shared mutable state)."""
    return _with_examples(_document())


def _document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Battery export validation gateway",
            "version": __version__,
            "description": "Check battery shipments before customs submission. "
            "Authenticate with `Authorization: Bearer gw_<id>_<secret>`.",
        },
        "servers": [{"url": "/"}],
        "security": [{"apiKey": []}],
        "paths": {
            "/v1/shipments": {
                "post": {
                    "summary": "Upload a shipment's documents",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "schema": {"type": "string", "maxLength": 255},
                            "description": "Retries with the same key and content return "
                            "the same shipment; different content answers 422.",
                        }
                    ],
                    "requestBody": _upload_body(
                        reference={"type": "string", "maxLength": 200},
                        destination={
                            "type": "string",
                            "maxLength": 200,
                            "description": "Country: ISO 3166-1 code (DE, DEU) "
                            "or name in English or Chinese (Germany, 德国); "
                            "stored as the alpha-2 code.",
                        },
                        transport_mode={"type": "string", "enum": list(TRANSPORT_MODES)},
                        notify={
                            "type": "string",
                            "description": "Comma-separated email addresses.",
                        },
                        metadata={
                            "type": "string",
                            "description": "The same fields as one JSON object.",
                        },
                    ),
                    "responses": {
                        "202": _json("Shipment", "Documents and shipment stored durably."),
                        "409": _error("The same Idempotency-Key is still being processed."),
                        "413": _error("Too large or too many documents."),
                        "415": _error("A document's type (sniffed from its bytes) is not read."),
                        **ERRORS,
                    },
                },
                "get": {
                    "summary": "List shipments, newest first",
                    "parameters": [
                        {"name": n, "in": "query", "schema": s}
                        for n, s in (
                            (
                                "status",
                                {
                                    "type": "string",
                                    "enum": [
                                        "received",
                                        "extracting",
                                        "verifying",
                                        "done",
                                        "rejected",
                                    ],
                                },
                            ),
                            ("verdict", {"type": "string", "enum": ["clear", "hold", "block"]}),
                            ("reference", {"type": "string"}),
                            ("created_after", {"type": "string", "format": "date-time"}),
                            ("created_before", {"type": "string", "format": "date-time"}),
                            ("destination", {"type": "string", "description": "Code or name."}),
                            (
                                "q",
                                {
                                    "type": "string",
                                    "description": "Part of the reference, a document's name "
                                    "or a unit code.",
                                },
                            ),
                            ("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
                            ("cursor", {"type": "string"}),
                        )
                    ],
                    "responses": {"200": _json("ShipmentPage", "A page of shipments."), **ERRORS},
                },
            },
            "/v1/shipments/{shipment_id}": {
                "get": {
                    "summary": "Status of a shipment",
                    "parameters": [ID],
                    "responses": {"200": _json("Shipment", "The shipment."), **ERRORS},
                }
            },
            "/v1/shipments/{shipment_id}/report": {
                "get": {
                    "summary": "The report (JSON, HTML, CSV, XLSX, PDF or annotated workbook)",
                    "parameters": [
                        ID,
                        {
                            "name": "format",
                            "in": "query",
                            "schema": {
                                "type": "string",
                                "enum": list(REPORT_FORMATS),
                            },
                        },
                        {
                            "name": "lang",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["en", "zh"]},
                            "description": "Default: the account's language.",
                        },
                        {
                            "name": "version",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1},
                            "description": "A report version (default: the latest). Version "
                            "2 and later carry `version` and `changes` (fixed, new, "
                            'still_open) in JSON, and a "What changed" section in HTML '
                            "and PDF.",
                        },
                    ],
                    "responses": {
                        "200": {"description": "The report in the asked format."},
                        "409": _error("No report yet, or nothing to annotate."),
                        **ERRORS,
                    },
                }
            },
            "/v1/shipments/{shipment_id}/documents": {
                "post": {
                    "summary": "Re-check: upload corrected documents to the same shipment",
                    "description": "A document named like one of the shipment's replaces it; "
                    "other names are added. The shipment is checked again and its report "
                    "becomes the next version, with what changed against the previous one.",
                    "parameters": [ID],
                    "requestBody": _upload_body(),
                    "responses": {
                        "202": _json("Shipment", "Stored; the next check is queued."),
                        "409": _error("Still being checked, or its documents were purged."),
                        "413": _error("Too large or too many documents."),
                        "415": _error("A document's type is not read."),
                        **ERRORS,
                    },
                }
            },
            "/v1/shipments/{shipment_id}/reports": {
                "get": {
                    "summary": "Every version of the shipment's report, oldest first",
                    "parameters": [ID],
                    "responses": {"200": _json("ReportVersions", "The versions."), **ERRORS},
                }
            },
            "/v1/shipments/{shipment_id}/declare": {
                "post": {
                    "summary": "Record that the shipment was declared to customs",
                    "parameters": [ID],
                    "responses": {
                        "200": {"description": "Declared; its unit codes count as exported."},
                        "409": _error("Not checked yet."),
                        **ERRORS,
                    },
                }
            },
            "/v1/scans": {
                "post": {
                    "summary": "Read and check every code on one label photo",
                    "parameters": [
                        {
                            "name": "annotate",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["0", "1"]},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                            "image/png": {"schema": {"type": "string", "format": "binary"}},
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"image": {"type": "string", "format": "binary"}},
                                }
                            },
                        },
                    },
                    "responses": {
                        "200": _json("ScanResult", "Codes with verdicts (JSON) or image/jpeg."),
                        "413": _error("Photo too large (bytes or pixels)."),
                        "415": _error("Not a JPEG or PNG."),
                        **ERRORS,
                    },
                }
            },
            "/v1/codes/check": {
                "post": {
                    "summary": "Check a list of codes (syntax and registration)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "codes": {
                                            "type": "array",
                                            "items": {"type": "string"},
                                            "maxItems": 10000,
                                        }
                                    },
                                    "required": ["codes"],
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json("CodesResult", "A verdict per code."),
                        "413": _error("Too many codes."),
                        **ERRORS,
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Liveness",
                    "security": [],
                    "responses": {"200": {"description": "Up."}},
                }
            },
            "/readyz": {
                "get": {
                    "summary": "Readiness (database, queue, platform)",
                    "security": [],
                    "responses": {
                        "200": {"description": "Ready."},
                        "503": {"description": "Not ready."},
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics",
                    "security": [],
                    "responses": {"200": {"description": "Text format."}},
                }
            },
        },
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "details": {},
                            },
                            "required": ["code", "message"],
                        }
                    },
                },
                "Shipment": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "reference": {"type": "string"},
                        "status": {
                            "type": "string",
                            "enum": ["received", "extracting", "verifying", "done", "rejected"],
                        },
                        "progress": {"type": "integer"},
                        "stage": {
                            "type": "object",
                            "nullable": True,
                            "description": "Where the check stands: `stage` is one of "
                            "reading_documents, reading_labels, looking_up, checking, report; "
                            "`done` and `total` count its items (documents, photos, units).",
                            "properties": {
                                "stage": {"type": "string"},
                                "done": {"type": "integer"},
                                "total": {"type": "integer"},
                            },
                        },
                        "round": {
                            "type": "integer",
                            "description": "Uploads so far: 1, plus one per re-check.",
                        },
                        "reports_url": {"type": "string"},
                        "verdict": {"type": "string", "enum": ["clear", "hold", "block"]},
                        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                        "rejection": {
                            "type": "object",
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "documents": {
                                    "type": "array",
                                    "description": "With code no_readable_document: why each "
                                    "document was refused and the limit it hit.",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "document_id": {"type": "string"},
                                            "filename": {"type": "string"},
                                            "reason": {"type": "string"},
                                            "limit": {
                                                "type": ["object", "null"],
                                                "properties": {
                                                    "name": {"type": "string"},
                                                    "value": {},
                                                },
                                            },
                                            "message": {"type": "string"},
                                        },
                                    },
                                },
                            },
                        },
                        "status_url": {"type": "string"},
                        "report_url": {"type": "string"},
                        "documents": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "ReportVersions": {
                    "type": "object",
                    "properties": {
                        "items": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "version": {"type": "integer"},
                                    "verdict": {"type": "string"},
                                    "created_at": {"type": "string", "format": "date-time"},
                                    "report_url": {"type": "string"},
                                    "changes": {
                                        "type": "object",
                                        "nullable": True,
                                        "description": "How many findings were fixed, are "
                                        "new and are still open against the previous version.",
                                        "properties": {
                                            "fixed": {"type": "integer"},
                                            "new": {"type": "integer"},
                                            "still_open": {"type": "integer"},
                                        },
                                    },
                                },
                            },
                        }
                    },
                },
                "ShipmentPage": {
                    "type": "object",
                    "properties": {
                        "items": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Shipment"},
                        },
                        "next_cursor": {"type": "string", "nullable": True},
                    },
                },
                "CodeVerdict": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "verdict": {"type": "string", "enum": ["clear", "hold", "block"]},
                        "findings": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "CodesResult": {
                    "type": "object",
                    "properties": {
                        "verdict": {"type": "string"},
                        "counts": {"type": "object"},
                        "codes": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/CodeVerdict"},
                        },
                    },
                },
                "ScanResult": {
                    "type": "object",
                    "properties": {
                        "verdict": {"type": "string"},
                        "codes": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/CodeVerdict"},
                        },
                        "annotated_jpeg": {"type": "string", "format": "byte"},
                    },
                },
            },
        },
    }


_SHIPMENT_EXAMPLE: dict[str, Any] = {
    "id": "3f2c9a1e0b7d4c55",
    "reference": "INV-2026-1120",
    "destination": "DE",
    "transport_mode": "sea",
    "status": "done",
    "progress": 100,
    "created_at": "2026-11-20T09:29:41+00:00",
    "updated_at": "2026-11-20T09:30:02+00:00",
    "declared_at": None,
    "status_url": "/v1/shipments/3f2c9a1e0b7d4c55",
    "documents": [
        {
            "id": "doc-1",
            "filename": "packing_list_DE.xlsx",
            "media_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "size": 7342,
            "sha256": "5b1c…",
        }
    ],
    "verdict": "block",
    "counts": {"units": 4, "verified": 3, "not_found": 1, "block": 2, "warn": 0, "info": 3},
    "report_url": "/v1/shipments/3f2c9a1e0b7d4c55/report",
}
_ERROR_EXAMPLE = {
    "error": {
        "code": "invalid_input",
        "message": "Field 'transport_mode' must be one of sea, air, road, rail, multimodal, post.",
        "details": {"transport_mode": ["Must be one of: sea, air, road, rail, multimodal, post."]},
    }
}
_CODES_EXAMPLE = {
    "verdict": "block",
    "counts": {"codes": 2, "block": 1},
    "codes": [
        {"code": "(01)06901234567892(21)PK0101", "verdict": "clear", "findings": []},
        {
            "code": "(01)06901234567893(21)PK0102",
            "verdict": "block",
            "findings": [
                {
                    "code": "CHECK_DIGIT_INVALID",
                    "severity": "block",
                    "message": "Check digit is wrong: AI (01): the check digit is incorrect: "
                    "'06901234567893'.",
                }
            ],
        },
    ],
}
# (path, method) -> where an example goes ("request" or a status) -> the example
_EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("/v1/shipments", "post"): {
        "request": {
            "reference": "INV-2026-1120",
            "destination": "Germany",
            "transport_mode": "sea",
            "notify": "broker@example.com",
            "documents": "(the files: packing_list_DE.xlsx, label photos, ...)",
        },
        "202": _SHIPMENT_EXAMPLE,
        "422": _ERROR_EXAMPLE,
    },
    ("/v1/shipments", "get"): {"200": {"items": [_SHIPMENT_EXAMPLE], "next_cursor": None}},
    ("/v1/shipments/{shipment_id}", "get"): {"200": _SHIPMENT_EXAMPLE},
    ("/v1/codes/check", "post"): {
        "request": {"codes": ["(01)06901234567892(21)PK0101", "(01)06901234567893(21)PK0102"]},
        "200": _CODES_EXAMPLE,
    },
}
_CURL: dict[tuple[str, str], str] = {
    ("/v1/shipments", "post"): (
        'curl -sS -X POST "$API/v1/shipments" -H "Authorization: Bearer $KEY" \\\n'
        "  -H \"Idempotency-Key: $(python3 -c 'import uuid; print(uuid.uuid4())')\" \\\n"
        "  -F documents=@packing_list_DE.xlsx -F documents=@label_1.jpg \\\n"
        "  -F reference=INV-2026-1120 -F destination=Germany -F transport_mode=sea"
    ),
    ("/v1/shipments/{shipment_id}/documents", "post"): (
        'curl -sS -X POST "$API/v1/shipments/$ID/documents" -H "Authorization: Bearer $KEY" '
        "-F documents=@packing_list_DE.xlsx"
    ),
    ("/v1/shipments/{shipment_id}/report", "get"): (
        'curl -sS "$API/v1/shipments/$ID/report?format=pdf&lang=zh" '
        '-H "Authorization: Bearer $KEY" -o report.pdf'
    ),
    ("/v1/codes/check", "post"): (
        'curl -sS -X POST "$API/v1/codes/check" -H "Authorization: Bearer $KEY" \\\n'
        "  -H 'Content-Type: application/json' "
        '-d \'{"codes": ["(01)06901234567892(21)PK0101"]}\''
    ),
}


def _with_examples(doc: dict[str, Any]) -> dict[str, Any]:
    for (path, method), examples in _EXAMPLES.items():
        op = doc["paths"][path][method]
        for where, example in examples.items():
            if where == "request":
                content = op["requestBody"]["content"]
            else:
                content = op["responses"][where].setdefault("content", {})
            for media in content.values():
                media["example"] = example
    for (path, method), text in _CURL.items():
        doc["paths"][path][method]["x-examples"] = [{"title": "curl", "text": text}]
    return doc


bp.add_app_template_filter(apidocs.code_spans, "code_spans")


@bp.get("/v1/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI document."""
    return jsonify(spec())


@bp.get("/docs")
def docs_page() -> str:
    """The OpenAPI document as a page: every operation's parameters, bodies, responses and
    examples, and every schema, rendered on the server (no script, nothing fetched)."""
    doc = spec()
    return render_template(
        "docs.html",
        info=doc["info"],
        openapi=doc["openapi"],
        ops=apidocs.operations(doc),
        schemas=apidocs.schemas(doc),
    )
