"""`/v1/shipments`: upload, status, list, report download, declare."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

import structlog
from flask import Blueprint, Response, jsonify, request, url_for

from gateway.api.auth import current_principal, current_repo, services
from gateway.api.errors import ApiError
from gateway.api.schemas import ListQuerySchema, ShipmentMetaSchema
from gateway.errors import DocumentTooLarge, InputError, NotFound
from gateway.intake import (
    Upload,
    accept_recheck,
    accept_shipment,
    check_idempotency_key,
    display_name,
    sniff,
)
from gateway.parsers.sniff import XLSM, XLSX
from gateway.reports import changes
from gateway.reports.formats import FORMATS, NAMES, annotate, render, report_stem
from gateway.storage.codec import report_from_data
from gateway.storage.models import ReportRow, Shipment, ShipmentStatus
from gateway.storage.repo import ShipmentFilter, TenantRepo, aware

log = structlog.get_logger(__name__)
bp = Blueprint("shipments", __name__)

WORKBOOKS = (XLSX, XLSM)


def shipment_body(shipment: Shipment, repo: TenantRepo) -> dict[str, Any]:
    """The public view of a shipment."""
    body: dict[str, Any] = {
        "id": shipment.id,
        "reference": shipment.reference,
        "destination": shipment.destination,
        "transport_mode": shipment.transport_mode,
        "status": shipment.status,
        "progress": shipment.progress,
        "stage": shipment.stage,
        "round": shipment.rounds,
        "created_at": aware(shipment.created_at).isoformat(),
        "updated_at": aware(shipment.status_changed_at).isoformat(),
        "declared_at": aware(shipment.declared_at).isoformat() if shipment.declared_at else None,
        "status_url": url_for("shipments.get_shipment", shipment_id=shipment.id),
        "documents": [
            {
                "id": d.doc_id,
                "filename": d.filename,
                "media_type": d.media_type,
                "size": d.size,
                "sha256": d.sha256,
                "round": d.round,
            }
            for d in repo.documents(shipment.id)
        ],
    }
    if shipment.status == ShipmentStatus.REJECTED:
        body["rejection"] = {"code": shipment.reason_code, "message": shipment.reason}
        if shipment.rejection_details:
            body["rejection"].update(shipment.rejection_details)
    if shipment.status == ShipmentStatus.DONE:
        body["verdict"] = shipment.verdict
        body["counts"] = shipment.counts or {}
        body["report_url"] = url_for("shipments.get_report", shipment_id=shipment.id)
    if shipment.rounds > 1 or shipment.status == ShipmentStatus.DONE:
        body["reports_url"] = url_for("shipments.list_reports", shipment_id=shipment.id)
    return body


def _metadata() -> dict[str, Any]:
    raw = request.form.get("metadata")
    data: dict[str, Any]
    if raw:
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError as exc:
            msg = f"Field 'metadata' is not valid JSON: {exc.msg} at position {exc.pos}."
            raise InputError(msg) from None
        if not isinstance(parsed, dict):
            msg = f"Field 'metadata' must be a JSON object, got {type(parsed).__name__}."
            raise InputError(msg)
        data = parsed
    else:
        data = {}
    for name in ("reference", "destination", "transport_mode"):
        if name in request.form:
            data[name] = request.form[name]
    notify = request.form.getlist("notify")
    if notify:
        data["notify"] = ",".join(notify)
    loaded: dict[str, Any] = ShipmentMetaSchema().load(data)
    return loaded


def _read_documents() -> list[dict[str, Any]]:
    settings = services().settings
    uploads = [f for _name, f in request.files.items(multi=True)]
    if not uploads:
        msg = "No document in the upload: send one or more files as multipart field 'documents'."
        raise InputError(msg)
    if len(uploads) > settings.max_documents:
        msg = (
            f"Too many documents: {len(uploads)} sent, at most {settings.max_documents} "
            "per shipment. Split the shipment or merge documents."
        )
        raise DocumentTooLarge(msg)
    documents = []
    for position, upload in enumerate(uploads):
        data = upload.read(settings.max_upload_bytes + 1)
        name = display_name(upload.filename, position)
        if len(data) > settings.max_upload_bytes:
            msg = (
                f"Document {name!r} is larger than {settings.max_upload_bytes} bytes; "
                "compress images or split the file."
            )
            raise DocumentTooLarge(msg)
        if not data:
            msg = f"Document {name!r} is empty."
            raise InputError(msg)
        documents.append(
            {
                "filename": name,
                "data": data,
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
                "media_type": sniff(data, name),
            }
        )
    return documents


def _replay(body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.status_code = 202
    response.headers["Location"] = str(body.get("status_url", ""))
    response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.post("/v1/shipments")
def create_shipment() -> Response:
    """Accept a shipment: 202 once its documents and its row are durable."""
    repo = current_repo()
    key = request.headers.get("Idempotency-Key")
    check_idempotency_key(key)
    meta = _metadata()
    documents = _read_documents()  # sniffed before anything is stored: 415 rejects early
    upload = Upload(meta=meta, documents=documents, idempotency_key=key)
    accepted = accept_shipment(services(), repo, upload, lambda s: shipment_body(s, repo))
    if accepted.replayed:
        return _replay(accepted.body)
    response = jsonify(accepted.body)
    response.status_code = 202
    response.headers["Location"] = accepted.body["status_url"]
    return response


@bp.post("/v1/shipments/<shipment_id>/documents")
def recheck_shipment(shipment_id: str) -> Response:
    """Corrected documents for a checked shipment: 202, and the next report version follows."""
    repo = current_repo()
    repo.get(shipment_id)  # 404 before reading the upload
    documents = _read_documents()
    body = accept_recheck(
        services(), repo, shipment_id, documents, lambda s: shipment_body(s, repo)
    )
    response = jsonify(body)
    response.status_code = 202
    response.headers["Location"] = body["status_url"]
    return response


@bp.get("/v1/shipments/<shipment_id>/reports")
def list_reports(shipment_id: str) -> Response:
    """Every version of the shipment's report, oldest first, with what changed in each."""
    repo = current_repo()
    repo.get(shipment_id)
    return jsonify(
        {"items": [report_version_body(shipment_id, r) for r in repo.reports(shipment_id)]}
    )


def report_version_body(shipment_id: str, row: ReportRow) -> dict[str, Any]:
    """One version of a report as the API lists it."""
    return {
        "version": row.version,
        "verdict": row.verdict,
        "created_at": aware(row.created_at).isoformat(),
        "report_url": url_for("shipments.get_report", shipment_id=shipment_id, version=row.version),
        "changes": changes.counts(row.changes) if row.changes is not None else None,
    }


@bp.get("/v1/shipments")
def list_shipments() -> Response:
    """The tenant's shipments, newest first, filtered and paginated by cursor."""
    query: dict[str, Any] = ListQuerySchema().load(request.args.to_dict())
    repo = current_repo()
    rows, cursor = repo.page(
        ShipmentFilter(
            status=query.get("status"),
            verdict=query.get("verdict"),
            reference=query.get("reference"),
            created_after=query.get("created_after"),
            created_before=query.get("created_before"),
            destination=query.get("destination"),
            text=query.get("q"),
        ),
        limit=query["limit"],
        cursor=query.get("cursor"),
    )
    return jsonify({"items": [shipment_body(s, repo) for s in rows], "next_cursor": cursor})


@bp.get("/v1/shipments/<shipment_id>")
def get_shipment(shipment_id: str) -> Response:
    """Status of one shipment, with verdict and counts once done."""
    repo = current_repo()
    return jsonify(shipment_body(repo.get(shipment_id), repo))


def _wanted_format() -> str:
    fmt = request.args.get("format")
    if fmt:
        if fmt not in FORMATS:
            msg = f"Unknown report format {fmt!r}: expected one of {', '.join(NAMES)}."
            raise InputError(msg)
        return fmt
    # the first format of each media type: "annotated" is asked for by name only
    offered: dict[str, str] = {}
    for each in FORMATS.values():
        offered.setdefault(each.essence, each.name)
    best = request.accept_mimetypes.best_match(list(offered), default="application/json")
    return offered.get(best or "", "json")


def _style_hashes(html: bytes) -> list[str]:
    """CSP hashes of the report's inline <style> blocks (no 'unsafe-inline' needed)."""
    hashes = []
    for match in re.finditer(rb"<style[^>]*>(.*?)</style>", html, re.DOTALL | re.IGNORECASE):
        digest = base64.b64encode(hashlib.sha256(match.group(1)).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    return hashes


@bp.get("/v1/shipments/<shipment_id>/report")
def get_report(shipment_id: str) -> Response:
    """The report as JSON, HTML, CSV, XLSX, PDF or the annotated workbook."""
    repo = current_repo()
    shipment = repo.get(shipment_id)
    version = request.args.get("version")
    if version is not None and not version.isdigit():
        msg = f"Unknown report version {version!r}: expected a number."
        raise InputError(msg)
    row = repo.report(shipment_id, int(version) if version else None)
    if row is None and version:
        msg = f"Shipment {shipment_id!r} has no report version {version}."
        raise NotFound(msg)
    if row is None:
        msg = f"Shipment {shipment_id!r} has no report yet (status {shipment.status!r})."
        raise ApiError(
            msg,
            status=409,
            code="report_not_ready",
            details={"status": shipment.status},
        )
    lang = request.args.get("lang") or current_principal().language
    return report_response(repo, shipment, row, _wanted_format(), lang)


def report_response(
    repo: TenantRepo, shipment: Shipment, row: ReportRow, fmt: str, lang: str
) -> Response:
    """One stored report rendered in `fmt` and `lang`, with its download name and CSP."""
    if lang not in ("en", "zh"):
        msg = f"Unknown language {lang!r}: expected 'en' or 'zh'."
        raise InputError(msg)
    report = report_from_data(row.body)
    stem = report_stem(shipment.reference, shipment.id)
    if fmt == "annotated":
        # an .xlsm is annotated too: it comes back as a plain workbook of values
        # the workbook this version of the report read (a re-check may have replaced it)
        read = {d.id for d in report.documents}
        workbook = next(
            (
                d
                for d in repo.documents(shipment.id, replaced=True)
                if d.media_type in WORKBOOKS and d.doc_id in read
            ),
            None,
        )
        if workbook is None or workbook.blob_key is None:
            msg = "The shipment has no Excel (.xlsx) document to annotate; download 'xlsx' instead."
            raise ApiError(
                msg,
                status=409,
                code="nothing_to_annotate",
            )
        data = annotate(report, services().blobs.get(workbook.blob_key), workbook.doc_id, lang)
        stem = f"{stem}-annotated"
    else:
        data = render(report, fmt, lang)
    ext = FORMATS[fmt].extension
    response = Response(data, content_type=FORMATS[fmt].media_type)  # the charset is in it
    if fmt == "html":
        styles = " ".join(_style_hashes(data)) or "'none'"
        response.headers["Content-Security-Policy"] = (
            f"default-src 'none'; style-src {styles}; img-src data:; "
            "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
        )
    if fmt != "json" and (fmt != "html" or request.args.get("download")):
        response.headers["Content-Disposition"] = f'attachment; filename="{stem}.{ext}"'
    return response


@bp.post("/v1/shipments/<shipment_id>/declare")
def declare(shipment_id: str) -> Response:
    """Record that the shipment went to customs: its unit codes count as exported."""
    repo = current_repo()
    shipment = repo.get(shipment_id)
    row = repo.report(shipment_id)
    if shipment.status != ShipmentStatus.DONE or row is None:
        msg = f"Shipment {shipment_id!r} can be declared once checked (status {shipment.status!r})."
        raise ApiError(
            msg,
            status=409,
            code="not_checked",
        )
    report = report_from_data(row.body)
    keys = [str(k) for u in report.units for k in _unit_keys(u)]
    new = repo.declare(shipment_id, keys)
    repo.session.commit()
    declared_at = repo.get(shipment_id).declared_at
    assert declared_at is not None  # set by declare()
    return jsonify(
        {
            "id": shipment_id,
            "declared_at": aware(declared_at).isoformat(),
            "codes": len(set(keys)),
            "new_codes": new,
        }
    )


def _unit_keys(unit: Mapping[str, object]) -> list[object]:
    """Every key a unit was listed under (a pack's GS1 and GB/T codes), for the history."""
    keys = unit.get("keys")
    if isinstance(keys, list | tuple) and keys:
        return list(keys)
    return [unit["key"]] if unit.get("key") else []
