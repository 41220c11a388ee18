"""Scanned pages: render, read barcodes, OCR the printed text, then read the table.

The OCR engine is rapidocr on onnxruntime: it installs from PyPI with its models inside the
package, runs offline and reads Chinese and English. A page is rendered at about 200 dpi
(clamped so the bitmap stays under the pixel limit), its orientation is chosen among
0/90/180/270 by OCR confidence, skew is measured from the text boxes and removed, and the
OCR boxes become the same phrases a text PDF gives, so the same table reader applies.
Barcodes on the page (when `gateway.barcodes` is installed) are added as phrases at their
position, so a code printed only as a symbol lands on its line.
"""

from __future__ import annotations

import math
import re
import statistics
from typing import Any

from gateway.parsers.codes import mod10_ok
from gateway.parsers.limits import Limits
from gateway.parsers.pdf import PageText, Phrase, VisualLine

RENDER_DPI = 200.0
_ENGINE: Any = None


def _engine() -> Any:
    global _ENGINE
    if _ENGINE is None:
        import logging

        from rapidocr import RapidOCR

        logging.getLogger("RapidOCR").setLevel(logging.WARNING)
        _ENGINE = RapidOCR()
    return _ENGINE


def render_page(page: Any, limits: Limits) -> Any:
    """The page as an RGB numpy array at ~200 dpi, never above `max_render_pixels`."""
    width, height = page.get_size()
    scale = RENDER_DPI / 72.0
    pixels = width * scale * height * scale
    if pixels > limits.max_render_pixels:
        scale *= math.sqrt(limits.max_render_pixels / pixels)
    bitmap = page.render(scale=scale)
    try:
        return bitmap.to_numpy().copy(), scale
    finally:
        bitmap.close()


_OCR_FIXES = str.maketrans({"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1",
                            "S": "5", "B": "8", "Z": "2", "G": "6"})  # fmt: skip


def repair_ocr_text(text: str) -> str:
    """Fix letters OCR put into the digits of a GTIN or SSCC, only when the check digit agrees."""
    text = text.replace("（", "(").replace("）", ")")

    def fix(m: re.Match[str]) -> str:
        ai, body = m.group(1), m.group(2)
        length = 14 if ai == "01" else 18
        candidate = body.translate(_OCR_FIXES)
        if body.isdigit() or not candidate.isdigit() or len(candidate) != length:
            return m.group(0)
        return f"({ai}){candidate}" if mod10_ok(candidate) else m.group(0)

    return re.sub(r"\((01|00)\)([0-9A-Za-z|]{14,18})(?=\(|\s|$)", fix, text)


def _ocr(image: Any) -> list[tuple[list[list[float]], str, float]]:
    import warnings

    with warnings.catch_warnings():
        # the OCR package's own deprecation notices are not ours to act on
        warnings.simplefilter("ignore", DeprecationWarning)
        result = _engine()(image)
    if result is None or result.boxes is None:
        return []
    return [
        ([list(map(float, p)) for p in box], str(txt), float(score))
        for box, txt, score in zip(result.boxes, result.txts, result.scores, strict=False)
    ]


def _best_orientation(image: Any) -> tuple[Any, list[tuple[list[list[float]], str, float]]]:
    import numpy as np

    items = _ocr(image)
    # another orientation is tried only when the upright reading is poor: each OCR pass
    # costs seconds and hundreds of MB
    if len(items) >= 5 and statistics.mean(s for _, _, s in items) >= 0.6:
        return image, items
    best = (image, items, sum(s for _, _, s in items))
    for k in (1, 2, 3):
        rotated = np.ascontiguousarray(np.rot90(image, k))
        got = _ocr(rotated)
        total = sum(s for _, _, s in got)
        if total > best[2]:
            best = (rotated, got, total)
    return best[0], best[1]


def _symbols(image: Any) -> list[tuple[str, list[tuple[float, float]]]]:
    try:
        from gateway.barcodes import read
    except ImportError:
        return []
    try:
        found = read(image)
    except Exception:  # a reader failure must not lose the OCR text
        return []
    out: list[tuple[str, list[tuple[float, float]]]] = []
    for sym in found:
        quad = getattr(sym, "quad", None)
        if quad:
            out.append((str(sym.text), [(float(x), float(y)) for x, y in quad]))
    return out


def ocr_page(page: Any, number: int, limits: Limits) -> PageText:
    """OCR one rendered page into visual lines of phrases (page points, deskewed)."""
    image, scale = render_page(page, limits)
    return ocr_array(image, number, scale=scale)


def ocr_array(image: Any, number: int, *, scale: float) -> PageText:
    """OCR an RGB array; coordinates are divided by `scale` (pixels per point)."""
    import warnings

    with warnings.catch_warnings():
        # the OCR and barcode libraries' deprecation notices are not ours to act on
        warnings.simplefilter("ignore", DeprecationWarning)
        image, items = _best_orientation(image)
        symbols = _symbols(image)
    angles = []
    for box, _txt, _score in items:
        (x0, y0), (x1, y1) = box[0], box[1]
        if x1 - x0 > 3 * abs(box[3][1] - box[0][1]):
            angles.append(math.atan2(y1 - y0, x1 - x0))
    angle = statistics.median(angles) if angles else 0.0
    cos, sin = math.cos(-angle), math.sin(-angle)

    def rot(x: float, y: float) -> tuple[float, float]:
        return (x * cos - y * sin) / scale, (x * sin + y * cos) / scale

    phrases: list[tuple[Phrase, float]] = []
    for box, txt, score in items:
        pts = [rot(x, y) for x, y in box]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        phrases.append((Phrase(min(xs), max(xs), min(ys), max(ys), repair_ocr_text(txt)), score))
    for text, quad in symbols:
        pts = [rot(x, y) for x, y in quad]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        cy = (min(ys) + max(ys)) / 2
        phrases.append((Phrase(min(xs), max(xs), cy - 3, cy + 3, text), 1.0))
    return PageText(number, _lines([p for p, _ in phrases]))


def _lines(phrases: list[Phrase]) -> list[VisualLine]:
    if not phrases:
        return []
    height = statistics.median(p.bottom - p.top for p in phrases)
    lines: list[VisualLine] = []
    for p in sorted(phrases, key=lambda p: p.cy):
        if lines and p.cy - lines[-1].cy < height * 0.5:
            line = lines[-1]
            line.phrases.append(p)
            line.top = min(line.top, p.top)
            line.bottom = max(line.bottom, p.bottom)
        else:
            lines.append(VisualLine([p], p.top, p.bottom))
    for line in lines:
        line.phrases.sort(key=lambda p: p.x0)
    return lines
