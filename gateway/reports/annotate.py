"""The user's own Excel manifest handed back with the problem cells coloured and commented.

Only cells are touched: fill colour by the worst severity at that cell and a comment with the
findings. Macros are never kept (an .xlsm comes back as a plain .xlsx). openpyxl drops what it
cannot read (charts, images, pivot tables); the values, formulas and styles stay as they were.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections import defaultdict

from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.utils.cell import coordinate_from_string

from gateway.domain import Finding, Report, Severity
from gateway.errors import CorruptDocument, DocumentTooLarge, InputError
from gateway.reports import model
from gateway.reports.messages import check_lang, t

# A manifest unpacking beyond this is not one we annotate (a ZIP bomb, or not a manifest).
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_COMMENT_CHARS = 2000
_FILL = {
    Severity.BLOCK: PatternFill("solid", fgColor="F4C7C3"),
    Severity.WARN: PatternFill("solid", fgColor="FCE8B2"),
    Severity.INFO: PatternFill("solid", fgColor="E3E8EE"),
}
_RANK = {Severity.BLOCK: 0, Severity.WARN: 1, Severity.INFO: 2}


def _document_id(data: bytes, report: Report, document_id: str | None) -> str:
    if document_id is not None:
        return document_id
    digest = hashlib.sha256(data).hexdigest()
    for document in report.documents:
        if document.sha256 == digest:
            return document.id
    msg = (
        f"The workbook (sha256 {digest[:16]}...) is not one of the report's documents: "
        f"expected one of {[d.filename for d in report.documents]}."
    )
    raise InputError(msg)


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        msg = "Cannot annotate: expected an XLSX workbook (a ZIP container), got other bytes."
        raise CorruptDocument(msg) from None
    if unpacked > MAX_UNPACKED_BYTES:
        msg = (
            f"Cannot annotate: the workbook unpacks to {unpacked} bytes, "
            f"limit {MAX_UNPACKED_BYTES}."
        )
        raise DocumentTooLarge(msg)


def annotate_workbook(
    xlsx_bytes: bytes, report: Report, lang: str = "en", *, document_id: str | None = None
) -> bytes:
    """Colour and comment the cells the report's findings point at; return the new workbook.

    The document is found by its SHA-256 among the report's documents unless `document_id`
    names it.

    Raises:
        InputError: the bytes are not an XLSX workbook of this report.
    """
    lang = check_lang(lang)
    doc_id = _document_id(xlsx_bytes, report, document_id)
    _check_zip(xlsx_bytes)
    try:
        wb = load_workbook(io.BytesIO(xlsx_bytes), keep_vba=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many types on damaged files
        msg = f"Cannot annotate: the workbook cannot be read ({type(exc).__name__})."
        raise CorruptDocument(msg) from None
    at: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in report.findings:
        if finding.severity is Severity.INFO:
            continue  # a remark for the report, not a problem in the user's cell
        for ref in finding.refs:
            if ref.document_id != doc_id or ref.sheet is None:
                continue
            cell = ref.cell or (f"A{ref.row}" if ref.row is not None else None)
            if cell is not None:
                at[(ref.sheet, cell)].append(finding)
    for (sheet, cell), findings in at.items():
        if sheet not in wb.sheetnames:
            continue
        try:
            coordinate_from_string(cell)
        except ValueError:
            continue
        ws = wb[sheet]
        target = ws[cell]
        unique = list({id(f): f for f in findings}.values())
        findings = sorted(unique, key=lambda f: _RANK[f.severity])
        target.fill = _FILL[findings[0].severity]
        text = "\n".join(
            f"[{t('sev_' + str(f.severity), lang)}] {f.code}: {model.message(f, lang)}"
            f" -> {model.fix(f, lang)}"
            for f in findings
        )
        comment = Comment(text[:MAX_COMMENT_CHARS], "gateway")
        comment.width = 420
        comment.height = 160
        target.comment = comment
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
