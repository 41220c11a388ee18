"""Scanned pages: render, find the orientation, OCR the printed text, read the barcodes.

The OCR models are PP-OCR's detector and recognizer, as the rapidocr package installs them
from PyPI (offline, Chinese and English), run on onnxruntime by `gateway.parsers.ocr`
without importing that package. They are loaded once per process and reused. Each OCR pass
costs seconds and hundreds of MB, so a page gets as few as possible:

* the page is rendered once at 200 dpi, for the barcode reader and for OCR (at 150 dpi the
  detector loses lone digits such as a quantity of `1`; `OCR_DPI` scales the OCR image down
  when set lower); text detection looks at most at `DETECT_SIDE` pixels with a low box
  threshold, so that narrow glyphs are kept, instead of upscaling the page to 2000 pixels;
* the page is detected as it lies, band by band, without recognising anything: when its
  text boxes stand on end (a page laid sideways; the first band or two show it), or the
  upright reading is poor, the direction is chosen by recognising the middles of a handful
  of sample boxes both ways, and the boxes are recognised on the turned page; a sideways
  page is never recognised as it lies. The page is detected once: the boxes found as it
  lies are turned with it, and the bands left below the first ones are detected as it
  lies, unless the turned page shows fewer printed bands than they are (then the turned
  page is detected instead);
* the detector takes the page in overlapping bands of `DETECT_BAND` rows, not in one call:
  its working memory grows with the pixels of a call (~450 MB for a whole page, ~180 MB
  for a band), and with this overlap it finds the boxes one whole-page call finds. A band
  with nothing printed round its core (white paper at the foot of a page: one flat tone,
  `BLANK_CONTRAST`) is not detected, and of a printed band only the columns from its first
  print to its last, with a margin of white (`BLANK_COLUMNS`);
* the recognizer is called with the detector's boxes, in batches of at most six crops of
  similar width, bounded in padded width (`REC_BATCH_WIDTH`): a batch of six table-wide
  crops took ~500 MB;
* onnxruntime runs with one intra-op thread and no memory arena (two threads were 1.6x
  slower in wall time, and took 1.6x the CPU, on the loaded 2-core machine).

Skew is measured from the text boxes and removed, and the OCR boxes become the phrases a
text PDF gives, so the same table reader applies. Barcodes (read by `gateway.barcodes` when
installed) are kept apart as `PageSymbol`s with their position:
`gateway.parsers.placement` puts each on its line, where it wins over the OCR reading of the
same code. An image file has been read whole by the label reader before it comes here; when
that found no barcode the page is not read for barcodes again.
"""

from __future__ import annotations

import math
import re
import statistics
import warnings
from collections.abc import Generator
from typing import Any

from gateway.gs1 import has_valid_check_digit
from gateway.parsers.limits import Limits
from gateway.parsers.ocr import models
from gateway.parsers.pages import PageArea, PageSymbol, PageText, Phrase, VisualLine

RENDER_DPI = 200.0  # barcodes
OCR_DPI = 200  # printed text
DETECT_SIDE = 1600  # longest side, in pixels, the text detector looks at
DETECT_BAND = 448  # rows of that image the detector takes in one call
DETECT_OVERLAP = 160  # rows two neighbouring bands share (both multiples of 32)
# the recognizer pads every crop of a call to the widest one and to at least this width
# (48 high). Its cost is linear in the padded width; the package's 320 doubled it on
# packing lists (most cells are short), and below ~64 a lone digit can misread
REC_MIN_WIDTH = 80.0
REC_BATCH_WIDTH = 1920.0  # padded pixels of width in one recognizer call
# crops in one call: a lone digit padded to the width of 23 others misread (a quantity `1`
# as `i` on a skewed dev scan); six, as the OCR package batches, kept every reading
REC_BATCH_COUNT = 6
TEXT_SCORE = 0.5  # readings under this confidence are dropped, as the OCR engine does
# rows and columns of the detector's image whose tones spread less than this are blank
# paper: a band with no other rows round its core is not detected, and of the others only
# the columns from the first printed one to the last, with a margin, are
BLANK_CONTRAST = 32
BLANK_MARGIN = 24  # rows
BLANK_COLUMNS = 128  # columns of white kept on each side of a band's print
VOTE_BOXES = 8  # sample boxes recognised both ways to choose a page's direction
VOTE_LENGTH = 6  # of each, at most this many times its thickness along the text
FLIP_BOXES = 16  # sample boxes the direction classifier looks at (~1 ms each)
FLIP_LENGTH = 4  # the same for the direction classifier (it takes 48 x 192 pixels)
# the classifier's mean probability of upside down this close to even leaves it undecided
FLIP_UNSURE = 0.25

OcrItem = tuple[list[list[float]], str, float]  # box corners, text, confidence


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


def _load(image: Any) -> Any:
    """The image as the OCR models take it (three channels, uint8, contiguous)."""
    import numpy as np

    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    elif image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    elif image.shape[2] == 4:
        image = image[:, :, :3]
    return np.ascontiguousarray(image, dtype=np.uint8)


def _detect(image: Any) -> list[Any]:
    """Text boxes (4 corners, float32, image pixels) found on the page: every band's."""
    boxes = [box for found in _bands(image) for box in found]
    _trim()
    return boxes


def _bands(image: Any) -> Generator[list[Any], None, None]:
    """The text boxes of the page, one band at a time, top to bottom.

    The detector sees the page at most `DETECT_SIDE` pixels long, in horizontal bands of
    `DETECT_BAND` rows that overlap by `DETECT_OVERLAP`: its working memory grows with the
    pixels of one call (a whole page at 1600 pixels took ~450 MB), and a text line, a few
    dozen rows high there, always lies whole in one band. A box belongs to the band whose
    core (the band less half the overlap at each inner edge) holds its middle, so a line
    in an overlap is kept once; a band with nothing printed round its core is not detected
    (`_plan`). A caller that stops early detects no further band.
    """
    import numpy as np

    detector = models().detect
    height, width = image.shape[:2]
    small = _detector_view(image)
    rows, cols = small.shape[:2]
    scale = np.array([width / cols, height / rows], dtype=np.float32)
    for start, end, core_top, core_bottom, left, right in _plan(small):
        if left >= right:
            yield []
            continue
        found = detector(np.ascontiguousarray(small[start:end, left:right]))
        # each band's working memory back to the system before the next: left in the heap,
        # the bands' buffers fragmented it and a page's peak grew by ~80 MB
        _trim()
        boxes: list[Any] = []
        for box in found:
            middle = start + float(box[:, 1].mean())
            if core_top <= middle < core_bottom:
                placed = box.astype(np.float32)
                placed[:, 0] += left
                placed[:, 1] += start
                boxes.append(placed * scale)
        yield boxes


def _detector_view(image: Any) -> Any:
    """The page at the size the detector would give it whole: longest side `DETECT_SIDE`,
    both sides multiples of 32. The bands are cut from it and are multiples of 32 too, so
    the detector scales none of them again."""
    import cv2

    height, width = image.shape[:2]
    ratio = min(1.0, DETECT_SIDE / max(height, width))
    rows = max(32, round(int(height * ratio) / 32) * 32)
    cols = max(32, round(int(width * ratio) / 32) * 32)
    return cv2.resize(image, (cols, rows))


def _plan(small: Any) -> list[tuple[int, int, float, float, int, int]]:
    """The detector's bands of `small`: (first row, end row, core top, core bottom, first
    column, end column), the columns those the band has printed on (none: `left == right`).

    A box is kept by the band whose core holds its middle, and a text line's middle rows are
    printed: a band whose core (and `BLANK_MARGIN` rows round it) is one flat tone keeps no
    box, and is not detected. Of a printed band, only its columns from the first printed one
    to the last, `BLANK_MARGIN` more on each side (the page's white margins, a short table
    on one side of a sheet laid sideways), in multiples of 32.
    """
    import cv2

    rows, cols = small.shape[:2]
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    printed = _spread(gray, axis=1)
    step = DETECT_BAND - DETECT_OVERLAP
    starts = [0] if rows <= DETECT_BAND else list(range(0, rows - DETECT_OVERLAP, step))
    plan = []
    for index, start in enumerate(starts):
        end = min(start + DETECT_BAND, rows)
        core_top = start + DETECT_OVERLAP / 2 if index else -math.inf
        core_bottom = end - DETECT_OVERLAP / 2 if end < rows else math.inf
        top = max(int(max(core_top, start)) - BLANK_MARGIN, 0)
        left = right = 0
        if printed[top : int(min(core_bottom, end)) + BLANK_MARGIN].any():
            columns = _off_paper(gray[start:end]).nonzero()[0]
            left, right = (int(columns[0]), int(columns[-1]) + 1) if len(columns) else (0, cols)
            left = max(left - BLANK_COLUMNS, 0) // 32 * 32
            right = min(-(-(right + BLANK_COLUMNS) // 32) * 32, cols)
        plan.append((start, end, core_top, core_bottom, left, right))
    return plan


def _detection_cost(image: Any, skip: int = 0) -> int:
    """Pixels the detector takes in the printed bands of `image` after the first `skip`."""
    bands = _plan(_detector_view(image))[skip:]
    return sum((end - start) * (right - left) for start, end, _, _, left, right in bands)


def _off_paper(band: Any) -> Any:
    """Per column of `band`, True when a tone on it is `BLANK_CONTRAST` or more away from the
    paper's (the band's median tone): print, a rule, a stamp, of either polarity."""
    import numpy as np

    paper = int(np.median(band[::4, ::4]))
    darkest, lightest = band.min(axis=0).astype("int16"), band.max(axis=0).astype("int16")
    return (paper - darkest >= BLANK_CONTRAST) | (lightest - paper >= BLANK_CONTRAST)


def _spread(gray: Any, axis: int) -> Any:
    """Per row (`axis=1`) or column (`axis=0`) of `gray`, True when its tones spread at
    least `BLANK_CONTRAST` (paper alone, of any shade, has less; a speck of noise counts)."""
    spread: Any = gray.max(axis=axis).astype("int16") - gray.min(axis=axis)
    return spread >= BLANK_CONTRAST


def _crop(image: Any, box: Any) -> Any:
    """The box's pixels, straightened; a box much taller than wide is turned to lie."""
    import cv2
    import numpy as np

    points = box.astype(np.float32)
    width = int(max(np.linalg.norm(points[0] - points[1]), np.linalg.norm(points[2] - points[3])))
    height = int(max(np.linalg.norm(points[0] - points[3]), np.linalg.norm(points[1] - points[2])))
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    crop = cv2.warpPerspective(
        image,
        cv2.getPerspectiveTransform(points, target),
        (width, height),
        borderMode=cv2.BORDER_REPLICATE,
        flags=cv2.INTER_CUBIC,
    )
    return np.rot90(crop) if crop.shape[0] >= 1.5 * crop.shape[1] else crop


def _read(crops: list[Any]) -> list[tuple[str, float]]:
    """(text, confidence) of each crop, recognised in batches of bounded width.

    The recognizer pads every crop of a batch to the widest one (at 48 pixels high), and
    its memory grows with that width times the batch size: six crops as wide as a table
    row took ~500 MB. Batches are formed over crops sorted by width and hold at most
    `REC_BATCH_WIDTH` padded pixels (one wide crop goes alone).
    """
    if not crops:
        return []
    recognise = models().recognise
    lengths = [48.0 * c.shape[1] / max(c.shape[0], 1) for c in crops]
    widths = [max(REC_MIN_WIDTH, length) for length in lengths]
    order = sorted(range(len(crops)), key=lambda i: lengths[i])
    out: list[tuple[str, float]] = [("", 0.0)] * len(crops)
    batch: list[int] = []

    def run() -> None:
        for start in range(0, len(batch), REC_BATCH_COUNT):
            part = batch[start : start + REC_BATCH_COUNT]
            found = recognise([crops[i] for i in part], REC_MIN_WIDTH)
            for i, (txt, score) in zip(part, found, strict=True):
                out[i] = (txt, score)

    for i in order:
        if batch and (len(batch) + 1) * widths[i] > REC_BATCH_WIDTH:
            run()
            batch = []
        batch.append(i)
    if batch:
        run()
    return out


def _ocr(image: Any, boxes: list[Any] | None = None) -> list[OcrItem]:
    """Detect (unless `boxes` are given) and recognise the text of an upright image."""
    if boxes is None:
        boxes = _detect(image)
    items: list[OcrItem] = []
    for box, (txt, score) in zip(boxes, _read([_crop(image, b) for b in boxes]), strict=True):
        # the OCR engine's own rule: no empty reading, none below its text score
        if txt.strip() and score >= TEXT_SCORE:
            items.append(([list(map(float, p)) for p in box], txt, score))
    return items


def _extent(box: Any) -> tuple[float, float, float, float]:
    xs, ys = [float(p[0]) for p in box], [float(p[1]) for p in box]
    return min(xs), min(ys), max(xs), max(ys)


def _standing(boxes: list[Any]) -> bool:
    """True when most elongated text boxes are taller than wide: the page lies on its side.

    Only boxes at least twice as long one way as the other vote (a word or more; a lone
    digit is about square and says nothing about the page's direction).
    """
    tall, wide = _tally(boxes)
    return tall > wide


def _clearly_standing(boxes: list[Any]) -> bool:
    """True when the boxes of the first bands already tell a page laid sideways.

    At least `VOTE_BOXES` elongated boxes stand on end, three times as many as lie: the
    rest of the page cannot turn that round, so its bands need not be detected as it lies.
    """
    tall, wide = _tally(boxes)
    return tall >= VOTE_BOXES and tall >= 3 * wide


def _tally(boxes: list[Any]) -> tuple[int, int]:
    """(boxes standing on end, boxes lying), each at least twice as long as thick."""
    tall = wide = 0
    for box in boxes:
        x0, y0, x1, y1 = _extent(box)
        w, h = x1 - x0, y1 - y0
        if h > 2 * w:
            tall += 1
        elif w > 2 * h:
            wide += 1
    return tall, wide


def _middles(image: Any, boxes: list[Any], count: int, length: int) -> list[Any]:
    """The middles of the `count` longest boxes, at most `length` times as long as thick:
    a few words tell the direction as well as a whole row does, and the models' cost grows
    with the crop's length."""

    def extent(box: Any) -> float:
        x0, y0, x1, y1 = _extent(box)
        return max(x1 - x0, y1 - y0)

    crops: list[Any] = []
    for box in sorted(boxes, key=lambda b: -extent(b))[:count]:
        x0, y0, x1, y1 = (int(v) for v in _extent(box))
        cut = max(x1 - x0 - length * (y1 - y0), 0) // 2
        x0, x1 = x0 + cut, x1 - cut
        cut = max(y1 - y0 - length * (x1 - x0), 0) // 2
        y0, y1 = y0 + cut, y1 - cut
        crop = image[max(y0, 0) : y1 + 1, max(x0, 0) : x1 + 1]
        if crop.size:
            crops.append(crop)
    return crops


def _vote(image: Any, boxes: list[Any], turns: tuple[int, int]) -> int:
    """Of two quarter-turn counts, the one under which sample boxes read best."""
    import numpy as np

    crops = [
        np.ascontiguousarray(np.rot90(crop, k))
        for crop in _middles(image, boxes, VOTE_BOXES, VOTE_LENGTH)
        for k in turns
    ]
    scores = [score for _, score in _read(crops)]
    totals = {k: sum(scores[j] for j in range(i, len(scores), 2)) for i, k in enumerate(turns)}
    return max(turns, key=lambda k: totals[k])


def _direction(image: Any, boxes: list[Any], turns: int) -> int:
    """`turns` or the half turn more: which one stands the page's text upright.

    The direction classifier looks at the middles of sample boxes turned by `turns` and
    by the half turn more, and gives each the probability that it is upside down; the page
    is decided once, by their means. When the classifier is unsure (a mean between
    `FLIP_UNSURE` and its complement), the recognizer reads the samples both ways and the
    better reading decides (`_vote`).
    """
    import numpy as np

    middles = _middles(image, boxes, FLIP_BOXES, FLIP_LENGTH)
    if not middles:
        return turns
    crops = [
        np.ascontiguousarray(np.rot90(crop, k)) for k in (turns, turns + 2) for crop in middles
    ]
    found = models().upside_down(crops)
    # each sample both ways: the classifier's leaning to one side cancels out
    flipped = (
        statistics.mean(found[: len(middles)]) + 1 - statistics.mean(found[len(middles) :])
    ) / 2
    if FLIP_UNSURE < flipped < 1 - FLIP_UNSURE:
        return _vote(image, boxes, (turns, (turns + 2) % 4))
    return (turns + 2) % 4 if flipped >= 0.5 else turns


def _upright(image: Any) -> tuple[int, list[OcrItem]]:
    """(quarter turns that make the page upright, the OCR reading of the upright page).

    The page is detected as it lies, band by band, until the bands so far show it laid
    sideways (`_clearly_standing`, usually after the first); after the last band, boxes
    standing on end mostly (`_standing`) mean sideways too. Which way up is then decided
    once for the page by the direction classifier on the middles of sample boxes
    (`_direction`): a quarter turn or three for a sideways page, none or a half turn for
    the others (the recognizer reads an upside-down page with a mean confidence of ~0.7,
    text such as `UN3480` and `LOT018` right, and its boxes in reverse order: no table).
    A page found upright is recognised as it lies.

    A turned page is recognised in the boxes found as it lies, turned with it
    (`_turned_boxes`): its bands left below the first are detected as it lies, unless the
    turned page has fewer pixels in printed bands than they have (`_detection_cost`; a
    page whose print fills one side of the sheet), and then the turned page is detected.
    """
    import numpy as np

    boxes: list[Any] = []
    bands = _bands(image)
    seen = 0
    standing = False
    for found in bands:
        boxes += found
        seen += 1
        if _clearly_standing(boxes):
            standing = True  # the bands still below may be detected turned, or not at all
            break
    _trim()
    if not boxes:
        return 0, []
    k = _direction(image, boxes, 1 if standing or _standing(boxes) else 0)
    if k == 0:
        return 0, _ocr(image, boxes)
    turned = np.ascontiguousarray(np.rot90(image, k))
    if standing and _detection_cost(turned) < _detection_cost(image, seen):
        # the turned page shows fewer printed bands than the page as it lies has left
        bands.close()
        return k, _ocr(turned)
    for found in bands:  # the rest as it lies, when the first bands told it
        boxes += found
    _trim()
    return k, _ocr(turned, _turned_boxes(boxes, k, image.shape[:2]))


def _turned_boxes(boxes: list[Any], turns: int, shape: tuple[int, int]) -> list[Any]:
    """`boxes` of an image of `shape` (rows, columns) as they lie on it turned by `turns`
    quarter turns anticlockwise (`numpy.rot90`), corners clockwise from the top left."""
    import numpy as np

    from gateway.parsers.ocr import reading_order

    rows, cols = shape
    out = []
    for box in boxes:
        x, y = box[:, 0], box[:, 1]
        if turns == 1:
            points = np.stack([y, cols - x], axis=1)
        elif turns == 2:
            points = np.stack([cols - x, rows - y], axis=1)
        else:
            points = np.stack([rows - y, x], axis=1)
        # the corner that was top right (1), bottom right (2), bottom left (3) leads
        out.append(np.roll(points, -turns, axis=0).astype(np.float32))
    return reading_order(out)


def _trim() -> None:
    """Give the heap the models' freed working memory back to the system.

    onnxruntime frees a call's tensors into the C heap, which keeps them: without this, the
    recognizer's and the barcode reader's buffers could come on top of the detector's
    high-water mark.
    """
    import contextlib
    import ctypes
    import sys

    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc
            ctypes.CDLL("libc.so.6").malloc_trim(0)


# why the barcode pass may stop before a region is read to the end: the answer names them
_LIMIT_REASONS = ("time budget", "step budget", "region limit")


def _symbols(image: Any) -> tuple[list[Any], list[Any]]:
    """(the page's symbols, its barcode-like regions left unread at one of the reader's limits).

    The page is read as a page (`read_labels(page=True)`): a sharp region gets no
    deblurring views, and a page where neither the whole-image read nor the coarse region
    search finds anything is settled there. Regions every view was tried on ("not decoded":
    blocks of text, logos, stamps) are not reported; those a limit stopped are.
    """
    try:
        from gateway.barcodes import read_labels
    except ImportError:
        return [], []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            result = read_labels(image, page=True)
    except Exception:  # a reader failure must not lose the OCR text
        return [], []
    return list(result.symbols), [u for u in result.unread if u.reason in _LIMIT_REASONS]


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

    # sample every 4th pixel both ways: enough to see a line of text, 16x cheaper
    sample = image[::4, ::4] if image.ndim == 2 else image[::4, ::4].min(axis=2)
    dark = int(np.count_nonzero(sample < 160))
    few = max(4, sample.size // 20000)
    return bool(dark < few or sample.size - dark < few)


def ocr_array(image: Any, number: int, *, scale: float, barcodes: bool = True) -> PageText:
    """OCR an RGB array rendered at `scale` pixels per point, and read its barcodes.

    `barcodes=False` when the caller has read the whole image for barcodes and found none
    (an image file goes to the label reader first): reading it again costs ~0.5 s.
    """
    import numpy as np

    if _blank(image):
        # nothing printed: no text to read, and no reason to pay the OCR model's memory
        return PageText(number, [], symbols=[], blank=True, confidence=0.0)
    factor = min(1.0, OCR_DPI / (scale * 72.0))
    small = _resize(image, factor)
    turns, items = _upright(_load(small))
    if turns:
        image = np.ascontiguousarray(np.rot90(image, turns))
    _trim()
    symbols, unread = _symbols(image) if barcodes else ([], [])
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
    areas = []
    for region in unread:
        pts = [rot(float(x), float(y), scale) for x, y in region.quad]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        areas.append(PageArea(region.kind, region.reason, min(xs), max(xs), min(ys), max(ys)))
    confidence = statistics.mean(score for _, _, score in items) if items else 0.0
    return PageText(number, _lines(phrases), symbols=placed, unread=areas, confidence=confidence)


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
