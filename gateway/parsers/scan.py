"""Scanned pages: render, find the orientation, OCR the printed text, read the barcodes.

The OCR engine is rapidocr on onnxruntime: it installs from PyPI with its models inside the
package, runs offline and reads Chinese and English. One engine is made per process and
reused. Each OCR pass costs seconds and hundreds of MB, so a page gets as few as possible:

* the page is rendered once at 200 dpi, for the barcode reader and for OCR (at 150 dpi the
  detector loses lone digits such as a quantity of `1`; `OCR_DPI` scales the OCR image down
  when set lower); text detection looks at most at `DETECT_SIDE` pixels with a low box
  threshold, so that narrow glyphs are kept, instead of upscaling the page to 2000 pixels;
* one OCR pass on the page as rendered; only when its text boxes stand on end (a page laid
  sideways) or read poorly is the page turned, and the direction is chosen by recognising a
  handful of sample boxes both ways, not by OCR-ing the whole page four times;
* onnxruntime runs with one intra-op thread and no memory arena.

Skew is measured from the text boxes and removed, and the OCR boxes become the phrases a
text PDF gives, so the same table reader applies. Barcodes (read by `gateway.barcodes` when
installed) are kept apart as `PageSymbol`s with their position: `gateway.parsers.pdf` puts
each on its line, where it wins over the OCR reading of the same code.
"""

from __future__ import annotations

import math
import re
import statistics
import warnings
from typing import Any

from gateway.gs1 import has_valid_check_digit
from gateway.parsers.limits import Limits
from gateway.parsers.pdf import PageSymbol, PageText, Phrase, VisualLine

RENDER_DPI = 200.0  # barcodes
OCR_DPI = 200  # printed text
DETECT_SIDE = 1600  # longest side, in pixels, the text detector looks at
# one intra-op thread: on a shared machine (or several workers) a second thread bought
# little wall-clock time here and cost CPU and ~35 MB
OCR_THREADS = 1
_ENGINE: Any = None

OcrItem = tuple[list[list[float]], str, float]  # box corners, text, confidence


def _engine() -> Any:
    """The process's OCR engine, made on first use (loading the models takes a while)."""
    global _ENGINE
    if _ENGINE is None:
        import logging

        from rapidocr import RapidOCR

        logging.getLogger("RapidOCR").setLevel(logging.WARNING)
        _ENGINE = RapidOCR(
            params={
                # orientation is decided per page below, not per box
                "Global.use_cls": False,
                "Global.log_level": "warning",
                "Global.max_side_len": 2400,
                "Det.limit_type": "max",
                "Det.limit_side_len": DETECT_SIDE,
                "Det.box_thresh": 0.3,
                "EngineConfig.onnxruntime.intra_op_num_threads": OCR_THREADS,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                "EngineConfig.onnxruntime.enable_cpu_mem_arena": False,
            }
        )
    return _ENGINE


def render_page(page: Any, limits: Limits) -> tuple[Any, float]:
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
_KEY_IN_OCR = re.compile(r"\((01|00)\)([0-9A-Za-z|]{14,18})(?=\(|\s|$)")


def repair_ocr_text(text: str) -> str:
    """Fix letters OCR put into the digits of a GTIN or SSCC, only when the check digit agrees."""
    text = text.replace("（", "(").replace("）", ")")

    def fix(m: re.Match[str]) -> str:
        ai, body = m.group(1), m.group(2)
        length = 14 if ai == "01" else 18
        candidate = body.translate(_OCR_FIXES)
        if body.isdigit() or not candidate.isdigit() or len(candidate) != length:
            return m.group(0)
        return f"({ai}){candidate}" if has_valid_check_digit(candidate) else m.group(0)

    return _KEY_IN_OCR.sub(fix, text)


def _ocr(image: Any) -> list[OcrItem]:
    with warnings.catch_warnings():
        # the OCR package's own deprecation notices are not ours to act on
        warnings.simplefilter("ignore", DeprecationWarning)
        # the engine remembers the steps of the last call, so they are always named
        result = _engine()(image, use_det=True, use_cls=False, use_rec=True)
    if result is None or getattr(result, "boxes", None) is None or result.txts is None:
        return []
    return [
        ([list(map(float, p)) for p in box], str(txt), float(score))
        for box, txt, score in zip(result.boxes, result.txts, result.scores, strict=False)
    ]


def _recognise(crop: Any) -> float:
    """Confidence of reading one text crop as it stands (no detection)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        result = _engine()(crop, use_det=False, use_cls=False, use_rec=True)
    scores = getattr(result, "scores", None)
    return float(scores[0]) if scores else 0.0


def _extent(box: list[list[float]]) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in box], [p[1] for p in box]
    return min(xs), min(ys), max(xs), max(ys)


def _standing(items: list[OcrItem]) -> bool:
    """True when most text boxes are taller than wide: the page lies on its side."""
    tall = 0
    for box, txt, _ in items:
        x0, y0, x1, y1 = _extent(box)
        if len(txt) >= 3:
            tall += 1 if (y1 - y0) > 1.5 * (x1 - x0) else -1
    return tall > 0


def _vote(image: Any, items: list[OcrItem], turns: tuple[int, int]) -> int:
    """Of two quarter-turn counts, the one under which sample boxes read best."""
    import numpy as np

    boxes = sorted(items, key=lambda it: -len(it[1]))[:8]
    totals = dict.fromkeys(turns, 0.0)
    for box, _, _ in boxes:
        x0, y0, x1, y1 = (int(v) for v in _extent(box))
        crop = image[max(y0, 0) : y1 + 1, max(x0, 0) : x1 + 1]
        if crop.size == 0:
            continue
        for k in turns:
            totals[k] += _recognise(np.ascontiguousarray(np.rot90(crop, k)))
    return max(turns, key=lambda k: totals[k])


def _upright(image: Any) -> tuple[int, list[OcrItem]]:
    """(quarter turns that make the page upright, the OCR reading of the upright page)."""
    import numpy as np

    items = _ocr(image)
    standing = _standing(items)
    if not standing and len(items) >= 5 and statistics.mean(s for _, _, s in items) >= 0.6:
        return 0, items
    if not items:
        return 0, items
    turns = (1, 3) if standing else (0, 2)
    k = _vote(image, items, turns)
    if k == 0:
        return 0, items
    return k, _ocr(np.ascontiguousarray(np.rot90(image, k)))


def _symbols(image: Any) -> list[Any]:
    try:
        from gateway.barcodes import read
    except ImportError:
        return []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return list(read(image))
    except Exception:  # a reader failure must not lose the OCR text
        return []


def _resize(image: Any, factor: float) -> Any:
    import cv2

    if abs(factor - 1.0) < 0.01:
        return image
    height, width = image.shape[:2]
    size = (max(int(width * factor), 1), max(int(height * factor), 1))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def ocr_page(page: Any, number: int, limits: Limits) -> PageText:
    """OCR one rendered page into visual lines of phrases (page points, deskewed)."""
    image, scale = render_page(page, limits)
    return ocr_array(image, number, scale=scale)


def _blank(image: Any) -> bool:
    """True when the page is one flat tone (white, black, grey): nothing printed on it."""
    import numpy as np

    gray = image if image.ndim == 2 else image.min(axis=2)
    # sample every 4th pixel both ways: enough to see a line of text, 16x cheaper
    sample = gray[::4, ::4]
    dark = int(np.count_nonzero(sample < 160))
    few = max(4, sample.size // 20000)
    return bool(dark < few or sample.size - dark < few)


def ocr_array(image: Any, number: int, *, scale: float) -> PageText:
    """OCR an RGB array rendered at `scale` pixels per point, and read its barcodes."""
    import numpy as np

    if _blank(image):
        # nothing printed: no text to read, and no reason to pay the OCR model's memory
        return PageText(number, [], symbols=[])
    factor = min(1.0, OCR_DPI / (scale * 72.0))
    small = _resize(image, factor)
    turns, items = _upright(small)
    if turns:
        image = np.ascontiguousarray(np.rot90(image, turns))
    symbols = _symbols(image)
    angles = []
    for box, _txt, _score in items:
        (x0, y0), (x1, y1) = box[0], box[1]
        if x1 - x0 > 3 * abs(box[3][1] - box[0][1]):
            angles.append(math.atan2(y1 - y0, x1 - x0))
    angle = statistics.median(angles) if angles else 0.0
    cos, sin = math.cos(-angle), math.sin(-angle)

    def rot(x: float, y: float, px_per_pt: float) -> tuple[float, float]:
        return (x * cos - y * sin) / px_per_pt, (x * sin + y * cos) / px_per_pt

    phrases: list[Phrase] = []
    for box, txt, _score in items:
        pts = [rot(x, y, scale * factor) for x, y in box]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        phrases.append(Phrase(min(xs), max(xs), min(ys), max(ys), repair_ocr_text(txt)))
    placed: list[PageSymbol] = []
    for sym in symbols:
        quad = tuple((float(x), float(y)) for x, y in sym.quad)
        if not quad:
            continue
        pts = [rot(x, y, scale) for x, y in quad]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        raw = str(getattr(sym, "raw", sym.text))
        placed.append(
            PageSymbol(
                raw, getattr(sym, "symbology", None), min(xs), max(xs), min(ys), max(ys), quad
            )
        )
    return PageText(number, _lines(phrases), symbols=placed)


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
