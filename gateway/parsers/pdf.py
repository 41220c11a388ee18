"""PDF -> `Extraction`: text pages through pypdfium2 glyph positions, scanned pages through OCR.

Why not pdfplumber for everything: on the 200-page benchmark its layout analysis costs about
ten times what PDFium's glyph boxes cost, and its memory grows with the page count. Each page
is read into page records (`gateway.parsers.pages`): its text layer when it has one, else,
within `Limits.max_ocr_pages`, the OCR of the rendered page and its barcodes
(`gateway.parsers.scan`). The pages are then assembled (`gateway.parsers.assembly`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from gateway.domain import Document, Extraction, ExtractionProblem, Severity, SourceRef
from gateway.errors import CorruptDocument
from gateway.parsers.assembly import assemble_pages
from gateway.parsers.limits import Limits, library_message
from gateway.parsers.pages import PageText, read_text_layer
from gateway.parsers.pdfguard import open_pdf


def read_pdf(data: bytes, document: Document, limits: Limits) -> Extraction:
    """Read a PDF: text pages as tables, scanned pages through barcodes and OCR.

    The file is opened by `gateway.parsers.pdfguard.open_pdf`: every compressed stream is
    measured under the limits' caps before PDFium sees it, and the page count is capped.
    """
    pdf = open_pdf(data, limits)
    try:
        count = len(pdf)
        if count == 0:
            msg = "PDF has no pages."
            raise CorruptDocument(msg)
        texts: list[PageText] = []
        scanned: list[int] = []
        unread: list[ExtractionProblem] = []
        for i in range(count):
            page = pdf[i]
            try:
                text = read_text_layer(page, i + 1)
                if text is None and len(scanned) < limits.max_ocr_pages:
                    scanned.append(i + 1)
                    text = _ocr_or_report(page, i + 1, limits, document.id, unread)
            finally:
                page.close()
            if text is not None:
                texts.append(text)
        method = "pdf_scan" if len(scanned) == count else "pdf_text"
        extraction = assemble_pages(texts, document, count, method=method, scanned=set(scanned))
        if unread:
            extraction = replace(extraction, problems=(*unread, *extraction.problems))
        return extraction
    finally:
        pdf.close()


def _ocr_or_report(
    page: Any, number: int, limits: Limits, document_id: str, problems: list[ExtractionProblem]
) -> PageText | None:
    """OCR one scanned page; a page the OCR engine fails on is reported, the others read."""
    from gateway.parsers.scan import ocr_page

    try:
        return ocr_page(page, number, limits)
    except MemoryError:
        raise
    except Exception as exc:  # the OCR runtime raises its own errors on odd pages
        problems.append(
            ExtractionProblem(
                kind="page_unreadable",
                message=(
                    f"Page {number} has no text layer and could not be read by OCR "
                    f"({library_message(exc)}); its lines are missing from this extraction."
                ),
                source=SourceRef(document_id, page=number),
                severity=Severity.BLOCK,
            )
        )
        return None
