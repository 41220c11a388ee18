"""Images (label photos, a scanned page saved as PNG/JPEG/TIFF) -> `Extraction`.

Every image is read for barcodes first, by the label reader (`gateway.barcodes.read_photo`,
the same reader `POST /v1/scans` uses). An image with symbols is a label photo (one label or
several): each symbol is a code of the photo, valid or not (the rules judge it), and the
printed text, which repeats the barcodes, is not read by OCR, which would cost seconds. An
image with no symbol is taken for a scanned page and read by OCR like a scanned PDF page,
unless the caller allows no OCR (`Limits.max_ocr_pages=0`: the scanner endpoint, where a
person waits at the dock for the answer).

An image that looks like a printed page (`page_gray`: large, mostly light paper, hundreds
of glyph-sized marks) is read for barcodes as a scanned PDF page is
(`read_labels(page=True)`: a page of text alone is settled by the coarse region search,
without the photo road's escalation over its blocks of text, ~0.5 s). Only a page read that
leaves nothing open is taken; a barcode-like region it could not read, or a conflicting
read, sends the image down the photo road after all.

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
    from gateway.barcodes import read_labels, read_photo

    _open_checked(data, limits).close()
    budget = limits.label_read_seconds or None
    result, scale = None, 1.0
    gray, is_page = _page_probe(data)
    if is_page:
        as_page = read_labels(gray, budget_s=budget, page=True)
        if not as_page.unread and not as_page.conflicts:
            result = as_page
    frames = None if result is not None or gray is None else [gray]
    del gray  # the photo road takes the pixels decoded here, the OCR road decodes its own
    if result is None:
        _, result, scale = read_photo(data, budget_s=budget, frames=frames)
    del frames
    if result.symbols or result.conflicts or limits.max_ocr_pages < 1:
        codes = symbol_occurrences(result.symbols, document.id, scale=scale)
        problems = _read_problems(result, document.id, scale)
        return assemble(document, {}, [], problems, method="image", pages=1, loose_codes=codes)
    # read whole and found nothing: the page's OCR need not read it for barcodes again
    return read_scanned_image(data, document, limits, barcodes=result.out_of_time)


# An image is taken for a printed page when both its sides are at least this long (an A4 or
# letter page at 150 dpi and more; a label photo is often as large, the next tests tell it),
PAGE_SIDES = (1000, 1400)
# its paper (the tone 90 % of the pixels are at most) is at least this light,
PAGE_PAPER = 200
# this share of its pixels are within `PAGE_INK` tones of the paper (a photo of a label shows
# the parcel, the table and shadows round it: 40-75 % on the development photos),
PAGE_PAPER_SHARE = 0.85
PAGE_INK = 40
# and it holds this many glyph-sized marks (a packing list, hundreds; an A6 label, fewer)
PAGE_GLYPHS = 200
# the tests look at the image at most this long
PAGE_VIEW_SIDE = 1000


def page_gray(data: bytes) -> Any:
    """The grayscale pixels of a one-frame image that looks like a printed page, else None."""
    gray, is_page = _page_probe(data)
    return gray if is_page else None


def _page_probe(data: bytes) -> tuple[Any, bool]:
    """(the image's grayscale pixels if they were decoded, whether it looks like a page).

    A large JPEG is judged at half its sides (decoded at that size, at a fraction of the
    full decode's cost) and decoded in full only when it passes; another image is decoded
    in full to be judged, and its pixels are returned either way, so that the photo road
    does not decode it again.
    """
    import cv2
    import numpy as np
    from PIL import Image

    from gateway.barcodes import load_image

    with Image.open(io.BytesIO(data), formats=["PNG", "JPEG", "TIFF"]) as probe:
        width, height = probe.size
        frames = getattr(probe, "n_frames", 1)
    if frames != 1 or min(width, height) < PAGE_SIDES[0] or max(width, height) < PAGE_SIDES[1]:
        return None, False
    if data.startswith(b"\xff\xd8\xff") and width * height > 4 * PAGE_VIEW_SIDE**2:
        view = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_2)
        if view is None or not _looks_like_page(view):
            return None, False
        return load_image(data)[0], True
    gray = load_image(data)[0]
    return gray, _looks_like_page(gray)


def _looks_like_page(gray: Any) -> bool:
    """True when `gray` is mostly light paper with many glyph-sized dark marks on it."""
    import cv2
    import numpy as np

    height, width = gray.shape[:2]
    factor = min(1.0, PAGE_VIEW_SIDE / max(height, width))
    view = cv2.resize(
        gray, (max(int(width * factor), 1), max(int(height * factor), 1)),
        interpolation=cv2.INTER_AREA,
    )  # fmt: skip
    paper = float(np.percentile(view, 90))
    if paper < PAGE_PAPER or np.mean(view >= paper - PAGE_INK) < PAGE_PAPER_SHARE:
        return False
    ink = (view < paper - 2 * PAGE_INK).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    tall, wide = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH]
    # a mark as high as print (~3-25 points on an A4 page seen at this size), not a rule
    glyphs = (tall >= 4) & (tall <= 30) & (wide <= 3 * tall)
    return int(np.count_nonzero(glyphs)) >= PAGE_GLYPHS


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
