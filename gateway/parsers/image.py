"""Images (label photos, a scanned page saved as PNG/JPEG/TIFF) -> `Extraction`.

Every image is read for barcodes first, by the label reader (`gateway.barcodes.read_photo`,
the same reader `POST /v1/scans` uses). An image with symbols is a label photo (one label or
several): each symbol is a code of the photo, valid or not (the rules judge it), and the
printed text, which repeats the barcodes, is not read by OCR, which would cost seconds. An
image with no symbol is taken for a scanned page and read by OCR like a scanned PDF page,
unless the caller allows no OCR (`Limits.max_ocr_pages=0`: the scanner endpoint, where a
person waits at the dock for the answer).

The pixel count is read from the header before any decoding: a 60,000 x 60,000 PNG is
refused by its header, not discovered by running out of memory. Only PNG, JPEG and TIFF
decoders are allowed (Pillow has many more, with their own histories of bugs).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gateway.domain import (
    CodeOccurrence,
    Document,
    Extraction,
    ExtractionMethod,
    ExtractionProblem,
    Severity,
    SourceRef,
)
from gateway.errors import CorruptDocument, DocumentTooLarge
from gateway.parsers.assembly import REGIONS_UNREAD, assemble, assemble_pages
from gateway.parsers.limits import Limits, library_message

MAX_FRAMES = 10


def symbol_occurrences(
    symbols: Iterable[Any],
    document_id: str,
    *,
    method: ExtractionMethod = ExtractionMethod.BARCODE_IMAGE,
    scale: float = 1.0,
    page: int = 1,
) -> tuple[CodeOccurrence, ...]:
    """One `CodeOccurrence` per barcode read, as the code engine takes it: the symbology
    identifier in front of the text (`]E0` tells an EAN-13 from an element string), the
    corners scaled to the photo's pixels."""
    return tuple(
        CodeOccurrence(
            raw=symbol.raw,
            source=SourceRef(document_id=document_id, page=page),
            method=method,
            symbology=symbol.symbology,
            quad=tuple((x * scale, y * scale) for x, y in symbol.quad),
        )
        for symbol in symbols
    )


def _open_checked(data: bytes, limits: Limits) -> Any:
    """The image opened lazily (no pixels decoded) once its header's size is within limits."""
    from PIL import Image

    try:
        img = Image.open(io.BytesIO(data), formats=["PNG", "JPEG", "TIFF"])
    except Image.DecompressionBombError as exc:
        msg = f"Image is too large to decode: {library_message(exc)}."
        raise DocumentTooLarge(msg, limit="max_image_pixels") from exc
    except Exception as exc:  # Pillow raises UnidentifiedImageError, SyntaxError, ...
        msg = f"Failed to read the image header: {library_message(exc)}."
        raise CorruptDocument(msg) from exc
    width, height = img.size
    if width * height > limits.max_image_pixels:
        msg = (
            f"Image is {width} x {height} = {width * height} pixels; expected at most "
            f"{limits.max_image_pixels}."
        )
        raise DocumentTooLarge(msg, limit="max_image_pixels")
    if getattr(img, "n_frames", 1) > MAX_FRAMES:
        msg = f"Image has more than {MAX_FRAMES} frames; expected a single page."
        raise DocumentTooLarge(msg, limit="image_max_frames")
    return img


def open_image(data: bytes, limits: Limits) -> Any:
    """Decode an image as RGB numpy array after checking its size from the header."""
    import numpy as np

    img = _open_checked(data, limits)
    try:
        return np.asarray(img.convert("RGB"))
    except Exception as exc:  # truncated or corrupt pixel data
        msg = f"Failed to decode the image: {library_message(exc)}."
        raise CorruptDocument(msg) from exc


class _ImagePage:
    """Adapter so an image goes through the same OCR path as a rendered PDF page."""

    def __init__(self, array: Any) -> None:
        self.array = array

    def get_size(self) -> tuple[float, float]:
        height, width = self.array.shape[:2]
        return float(width) * 72.0 / 200.0, float(height) * 72.0 / 200.0


def read_image(data: bytes, document: Document, limits: Limits) -> Extraction:
    """The codes of a label photo, or the lines of a scanned page (see the module)."""
    from gateway.barcodes import read_photo

    _open_checked(data, limits).close()
    budget = limits.label_read_seconds or None
    _, result, scale = read_photo(data, budget_s=budget)
    if result.symbols or result.conflicts or limits.max_ocr_pages < 1:
        codes = symbol_occurrences(result.symbols, document.id, scale=scale)
        problems = _read_problems(result, document.id, scale)
        return assemble(document, {}, [], problems, method="image", pages=1, loose_codes=codes)
    # read whole and found nothing: the page's OCR need not read it for barcodes again
    return read_scanned_image(data, document, limits, barcodes=result.out_of_time)


def _read_problems(result: Any, document_id: str, scale: float) -> list[ExtractionProblem]:
    """What the label reader could not settle: never silently left out of the answer."""
    problems: list[ExtractionProblem] = []
    for conflict in result.conflicts:
        texts = " / ".join(repr(t) for t in conflict.texts)
        problems.append(
            ExtractionProblem(
                kind=CONFLICTING_READS,
                message=(
                    f"One {conflict.symbology} symbol reads two ways ({texts}); neither is taken. "
                    f"Take a second photo of it, straight on and in focus."
                ),
                source=SourceRef(document_id, page=1, bbox=_box(conflict.quad, scale)),
                severity=Severity.WARN,
            )
        )
    if result.unread:
        why = sorted({u.reason for u in result.unread})
        problems.append(
            ExtractionProblem(
                kind=REGIONS_UNREAD,
                message=(
                    f"{len(result.unread)} barcode-like area(s) of the photo could not be read "
                    f"({', '.join(why)}); if a label is there, take a closer photo of it."
                ),
                source=SourceRef(document_id, page=1),
                severity=Severity.INFO,
            )
        )
    return problems


CONFLICTING_READS = "conflicting_reads"


def _box(quad: Any, scale: float) -> tuple[float, float, float, float]:
    xs = [x * scale for x, _ in quad]
    ys = [y * scale for _, y in quad]
    return (min(xs), min(ys), max(xs), max(ys))


def mark_photo(data: bytes, marks: Sequence[Mapping[str, Any]], limits: Limits) -> bytes:
    """The label photo as a JPEG with a box and label per mark, drawn by `annotate`.

    Each mark is a code as read: `text`, `symbology`, `quad` (four `[x, y]` corners in the
    photo's pixels) and `color` ("green", "amber" or "red"). The photo is decoded here, so
    only in the sandbox child that runs this (`gateway.parsers.child.ANNOTATE`).
    """
    from gateway.barcodes import Symbol, annotate, load_image

    _open_checked(data, limits).close()
    symbols = [
        Symbol(
            str(mark.get("text", "")),
            str(mark.get("symbology", "")).startswith("gs1-"),
            str(mark.get("symbology", "")),
            None,
            tuple((float(x), float(y)) for x, y in mark.get("quad", ())),
        )
        for mark in marks
    ]
    colors = {index: str(mark.get("color", "")) for index, mark in enumerate(marks)}
    return annotate(load_image(data)[0], symbols, colors, fmt="jpeg")


def read_scanned_image(
    data: bytes, document: Document, limits: Limits, *, barcodes: bool = True
) -> Extraction:
    """An image of a printed page: OCR text as table lines, its barcodes on their lines.

    `barcodes=False` when the label reader has read the image to the end and found none.
    """
    from gateway.parsers.scan import ocr_array

    array = open_image(data, limits)
    page = ocr_array(array, 1, scale=200.0 / 72.0, barcodes=barcodes)
    return assemble_pages([page], document, 1, method="image", scanned={1})
