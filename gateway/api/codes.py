"""`/v1/codes/check` and `/v1/scans`: synchronous checks of codes and label photos."""

from __future__ import annotations

# Everything a scan needs is imported with the app, not on a request. gateway.barcodes comes
# first: it sets OpenCV's pixel cap, which cv2 reads once, at its import.
from gateway.barcodes import retake_message

# isort: split
import base64
import dataclasses
import io
import logging
import secrets
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
from flask import Blueprint, Response, jsonify, request
from PIL import Image

from gateway.api.auth import current_principal, current_repo, services
from gateway.api.schemas import CodesCheckSchema
from gateway.domain import (
    CodeOccurrence,
    Extraction,
    ExtractionMethod,
    Finding,
    Report,
    Severity,
    SourceRef,
)
from gateway.errors import DocumentTooLarge, InputError, UnsupportedDocument
from gateway.gs1 import decode, format_hri
from gateway.jobs.run import DeclaredHistoryStore, count_lookups
from gateway.metrics import METRICS
from gateway.parsers.assembly import REGIONS_UNREAD
from gateway.parsers.image import CONFLICTING_READS
from gateway.parsers.limits import DEFAULT_LIMITS
from gateway.parsers.warm import ReaderPool
from gateway.services import Services

bp = Blueprint("codes", __name__)

_RANK = {Severity.BLOCK: 2, Severity.WARN: 1, Severity.INFO: 0}
_VERDICT = {2: "block", 1: "hold", 0: "clear"}
COLOR = {"clear": "green", "hold": "amber", "block": "red"}


def _finding(f: Finding, lang: str) -> dict[str, Any]:
    return {
        "code": f.code,
        "rule_id": f.rule_id,
        "severity": str(f.severity),
        "message": f.message_zh if lang == "zh" else f.message_en,
        "fix": f.fix_zh if lang == "zh" else f.fix_en,
        "span": list(f.span) if f.span else None,
    }


def per_code(report: Report, raws: Sequence[str], lang: str) -> list[dict[str, Any]]:
    """One entry per posted code: its findings and its own verdict.

    A code with a blocking finding is `block`, one with a warning is `hold`; a code with no
    finding is `clear` only if the report found it verified, otherwise `hold` (fail closed:
    a code the platform could not confirm never shows green).
    """
    unit_status: dict[str, str] = {}
    for unit in report.units:
        # a unit is one registration record: each of its codes (GS1 and GB/T) shares its status
        listed = unit.get("raws")
        codes = listed if isinstance(listed, list | tuple) else [unit.get("raw")]
        for raw in codes:
            if isinstance(raw, str):
                unit_status[raw] = str(unit.get("lookup", ""))
    out = []
    for raw in raws:
        findings = [f for f in report.findings if f.code_raw == raw]
        rank = max((_RANK.get(f.severity, 0) for f in findings), default=0)
        verdict = _VERDICT[rank]
        if verdict == "clear" and unit_status.get(raw) != "found":
            verdict = "hold"
        entry: dict[str, Any] = {
            "code": raw,
            "verdict": verdict,
            "findings": [_finding(f, lang) for f in findings],
        }
        if verdict != "clear" and not findings:
            # an amber answer always says why
            entry["reason"] = _hold_reason(unit_status.get(raw), lang)
        out.append(entry)
    return out


_HOLD_REASONS = {
    "unverified": (
        "The platform gave no answer for this code (unreachable, rate limited or a malformed "
        "answer): it is not verified. Scan it again later.",
        "平台未对该编码作出应答（无法连接、限流或应答格式错误）：未能核验。请稍后重新扫描。",
    ),
    "not_found": (
        "This code is not registered.",
        "该编码未登记。",
    ),
    None: (
        "A logistic unit's code (pallet or carton), not a battery's: it is not checked against "
        "the registrations. Scan the battery labels.",
        "这是物流单元（托盘或箱）的编码，不是电池编码：不与登记信息核对。请扫描电池标签。",
    ),
}


def _hold_reason(status: str | None, lang: str) -> str:
    en, zh = _HOLD_REASONS.get(status, _HOLD_REASONS["unverified"])
    return zh if lang == "zh" else en


def _check(codes: list[CodeOccurrence], label: str) -> Report:
    principal = current_principal()
    svc = services()
    history = DeclaredHistoryStore(svc, principal.tenant_id, None)
    report = svc.code_checker(codes, shipment_id=f"{label}-{secrets.token_hex(6)}", history=history)
    METRICS.inc("gateway_codes_checked_total", float(len(codes)), via=label)
    count_lookups(report.counts)
    return report


@bp.post("/v1/codes/check")
def check_codes() -> Response:
    """Check up to `GATEWAY_MAX_CODES` codes: syntax and registration, synchronously."""
    current_repo()  # authenticate + rate limit before reading the body
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        msg = 'The body must be a JSON object: {"codes": ["(01)...", ...]}.'
        raise InputError(msg)
    limit = services().options.max_codes
    if isinstance(body.get("codes"), list) and len(body["codes"]) > limit:
        msg = f"Too many codes: {len(body['codes'])} sent, at most {limit} per request."
        raise DocumentTooLarge(msg)
    data: dict[str, Any] = CodesCheckSchema().load(body)
    occurrences = [
        CodeOccurrence(
            raw=raw,
            source=SourceRef(document_id="request", row=index + 1),
            method=ExtractionMethod.INPUT,
        )
        for index, raw in enumerate(data["codes"])
    ]
    report = _check(occurrences, "codes")
    lang = request.args.get("lang") or current_principal().language
    return jsonify(
        {
            "verdict": str(report.verdict),
            "counts": dict(report.counts),
            "codes": per_code(report, data["codes"], lang),
        }
    )


def _image_bytes() -> bytes:
    limit = services().options.scan_max_bytes
    if request.content_length is not None and request.content_length > limit + 65536:
        msg = f"The photo is larger than {limit} bytes; send a JPEG from the scanner."
        raise DocumentTooLarge(msg)
    if request.mimetype.startswith("multipart/"):
        upload = request.files.get("image") or request.files.get("file")
        if upload is None:
            msg = "No photo in the upload: send it as multipart field 'image' or as the raw body."
            raise InputError(msg)
        data = bytes(upload.read(limit + 1))
    else:
        data = bytes(request.get_data(cache=False))
    if len(data) > limit:
        msg = f"The photo is larger than {limit} bytes; send a JPEG from the scanner."
        raise DocumentTooLarge(msg)
    if not data:
        msg = "The request has no photo."
        raise InputError(msg)
    return data


def _header_size(data: bytes, limit: int) -> tuple[int, int]:
    """Width and height from the image header, without decoding pixels."""
    if not data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")):
        msg = f"The photo must be JPEG or PNG, got bytes starting {data[:8]!r}."
        raise UnsupportedDocument(msg)
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG", "PNG"]) as probe:
            width, height = probe.size
    except Exception as exc:  # header unreadable: the client's file, not our fault
        msg = f"The photo cannot be read: {type(exc).__name__}."
        raise InputError(msg) from None
    if width * height > limit:
        msg = f"The photo has {width}x{height} pixels, more than the limit of {limit} pixels."
        raise DocumentTooLarge(msg)
    return width, height


# the label reader's time per scanner photo: escalation stops there and the answer says
# which areas were left unread, so a person at the dock is never kept waiting
SCAN_READ_SECONDS = 1.0

# A scanner photo's sandbox: no OCR, the reader's time budget, and a child that is killed
# after 15 s (10 s of CPU) rather than the documents' 180 s: a photo the reader takes
# longer over is hostile or broken, and the scanner gets its answer while it still waits.
SCAN_LIMITS = dataclasses.replace(
    DEFAULT_LIMITS,
    max_ocr_pages=0,
    label_read_seconds=SCAN_READ_SECONDS,
    cpu_seconds=10,
    wall_seconds=15.0,
)

# The warm readers of this web process (see `gateway.parsers.warm`): a scan is read by a
# sandboxed child that has read scans before, of the same tenant, instead of a child
# forked for it, whose first read faults in all its memory (half the cost of a scan).
_readers = ReaderPool(SCAN_LIMITS)


def _retake(extraction: Extraction, codes: int, lang: str) -> dict[str, str] | None:
    """How to take the photo again, when it should be: the label reader's own advice."""
    kinds = {p.kind for p in extraction.problems}
    if CONFLICTING_READS in kinds:
        case = "conflict"
    elif not codes:
        case = "unreadable" if REGIONS_UNREAD in kinds else "no_barcode"
    elif REGIONS_UNREAD in kinds:
        case = "partial"
    else:
        return None
    return {"code": case, "message": retake_message(case, lang)}


def read_photo(data: bytes, max_pixels: int, tenant: str = "") -> Extraction:
    """The label photo read as any uploaded image is (the parsers' dispatch, in the parser
    sandbox: a warm reader of `tenant`'s), without the OCR fallback: a scanner sends label
    photos and waits."""
    _header_size(data, max_pixels)
    return _readers.read(data, key=tenant, filename="scan", document_id="scan")


def _bracketed(raw: str) -> str | None:
    """The code in bracket form, `(01)…(21)…`, as a person reads it; None when not GS1."""
    decoded = decode(raw)
    return format_hri(dict(decoded.ais)) if decoded.ais else None


def _marks(codes: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answer's codes as the sandboxed annotator draws them (`mark_photo`'s marks)."""
    return [
        {
            "text": c["code"],
            "symbology": c["symbology"] or "",
            "quad": c["quad"],
            "color": c["color"],
        }
        for c in codes
    ]


_NOT_DRAWN = (
    "The marked-up photo could not be drawn; the verdicts above stand.",
    "未能生成标注照片；以上判定结果有效。",
)


def _annotated(data: bytes, codes: Sequence[dict[str, Any]], tenant: str) -> bytes | str:
    """The photo with a box per code as a JPEG, drawn in the parser sandbox (a warm reader of
    `tenant`'s) like the read itself: the web process never decodes a photo. When that
    fails (the photo crashed or overran the child), what the sandbox said about it instead
    of the JPEG ("" for a failure of our own, which is only logged)."""
    try:
        return _readers.annotate(data, key=tenant, marks=_marks(codes))
    except Exception as exc:  # the scanner keeps its verdicts whatever became of the drawing
        logging.getLogger(__name__).warning("scan annotation failed", exc_info=True)
        METRICS.inc("gateway_scan_annotations_failed_total")
        return str(exc) if isinstance(exc, InputError) else ""


@bp.post("/v1/scans")
def scan() -> Response:
    """Read every code on one label photo and give each its verdict (and a marked-up photo)."""
    current_repo()
    data = _image_bytes()
    extraction = read_photo(data, services().options.scan_max_pixels, current_principal().tenant_id)
    occurrences = list(extraction.loose_codes)
    raws = [c.raw for c in occurrences]
    lang = request.args.get("lang") or current_principal().language
    codes: list[dict[str, Any]] = []
    if occurrences:
        report = _check(occurrences, "scans")
        codes = per_code(report, raws, lang)
        verdict = str(report.verdict)
    else:
        verdict = "hold"  # nothing readable is never "clear"
    for entry, occurrence in zip(codes, occurrences, strict=True):
        entry["bracketed"] = _bracketed(occurrence.raw)
        entry["symbology"] = occurrence.symbology
        entry["quad"] = [[x, y] for x, y in occurrence.quad or ()]
        entry["color"] = COLOR[entry["verdict"]]
    answer: dict[str, Any] = {"verdict": verdict, "codes": codes}
    notes = [
        p.message for p in extraction.problems if p.kind in (CONFLICTING_READS, REGIONS_UNREAD)
    ]
    if notes:
        answer["notes"] = notes
    retake = _retake(extraction, len(occurrences), lang)
    if retake is not None:
        answer["retake"] = retake
    want_annotation = request.args.get("annotate") in ("1", "true", "yes")
    if want_annotation:
        image = _annotated(data, codes, current_principal().tenant_id)
        if isinstance(image, str):
            # the answer without its picture, as JSON whatever was asked for: the scanner
            # gets its verdicts and codes, and the header it may read them from
            en, zh = _NOT_DRAWN
            answer["notes"] = [*notes, f"{zh if lang == 'zh' else en} {image}".strip()]
            response = jsonify(answer)
            response.headers["X-Gateway-Verdict"] = verdict
            return response
        best = request.accept_mimetypes.best_match(["application/json", "image/jpeg"])
        if best == "image/jpeg":
            response = Response(image, mimetype="image/jpeg")
            response.headers["X-Gateway-Verdict"] = verdict
            return response
        return jsonify(
            {
                **answer,
                "annotated_jpeg": base64.b64encode(image).decode(),
            }
        )
    return jsonify(answer)


def warm_up(svc: Services) -> None:
    """Prepare a web process for scans: pay the one-time costs before the first scan.

    The parser sandbox's fork server is started (it imports the readers once), one blank
    photo goes through it, and the first code check loads the ruleset and opens the
    registry: costs that would otherwise land on one scanner's request. Failures are only
    logged: a cold process still serves correctly.
    """
    # Concurrent requests already keep every core busy; OpenCV's own thread pool on top of
    # them only adds hand-offs (measured: ~8 % more CPU per scan with 2 threads than with 1).
    cv2.setNumThreads(1)
    try:
        ok, blank = cv2.imencode(".png", np.full((150, 200), 200, np.uint8))
        if ok:  # starts the fork server; the reader it used is of no tenant's, let it go
            read_photo(blank.tobytes(), svc.options.scan_max_pixels, "warm-up")
            _readers.close()
        code = CodeOccurrence(
            raw="(01)09506000134352(21)WARMUP",
            source=SourceRef(document_id="warm-up", page=1),
            method=ExtractionMethod.BARCODE_IMAGE,
        )
        svc.code_checker([code], shipment_id="warm-up", history=None)
    except Exception:  # the warm-up is an optimisation, never a reason to refuse to serve
        logging.getLogger(__name__).warning("scan warm-up failed", exc_info=True)
