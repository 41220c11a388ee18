"""Page records and their geometry: what a page of a PDF or a scan holds, in reading order.

A page is read into `PageText`: visual lines of phrases (glyphs closer together than a column
gap) in reading coordinates (x to the right, y downwards), the ruling lines of its table, and,
on a scanned page, its barcodes as `PageSymbol`s. PDFium gives each glyph's box
(`read_text_layer`); the OCR of a scanned page (`gateway.parsers.scan`) gives the same records.
Pages drawn sideways (`/Rotate`, or text laid out along the y axis) are read in their own
reading direction.
"""

from __future__ import annotations

import bisect
import itertools
import statistics
from dataclasses import dataclass, field
from typing import Any

MIN_TEXT_CHARS = 20  # fewer glyphs than this: the page is a scan (or blank)


@dataclass(slots=True)
class Phrase:
    """Glyphs of one visual line closer together than a column gap."""

    x0: float
    x1: float
    top: float  # reading coordinates: y grows downwards
    bottom: float
    text: str

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass(slots=True)
class VisualLine:
    """Phrases sharing a baseline, left to right."""

    phrases: list[Phrase]
    top: float
    bottom: float

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass(slots=True)
class PageText:
    """One text page in reading coordinates."""

    number: int  # 1-based
    lines: list[VisualLine]
    h_edges: list[tuple[float, float, float]] = field(default_factory=list)  # y, x0, x1
    v_edges: list[tuple[float, float, float]] = field(default_factory=list)  # x, y0, y1
    symbols: list[PageSymbol] = field(default_factory=list)  # barcodes on a scanned page
    # barcode-like areas of a scanned page its barcode pass stopped short of reading
    unread: list[PageArea] = field(default_factory=list)
    # a scanned page: nothing printed on it (one flat tone), and the recognizer's mean
    # confidence over its readings (0.0 when it read none; None for a text layer)
    blank: bool = False
    confidence: float | None = None


@dataclass(frozen=True, slots=True)
class PageSymbol:
    """A barcode read on a scanned page, placed in the page's reading coordinates."""

    raw: str  # as `gateway.gs1.decode` takes it (symbology identifier in front)
    symbology: str | None
    x0: float
    x1: float
    top: float
    bottom: float
    quad: tuple[tuple[float, float], ...]  # corners in the rendered image's pixels


@dataclass(frozen=True, slots=True)
class PageArea:
    """A barcode-like area of a scanned page left unread, in reading coordinates."""

    kind: str  # "linear" or "matrix"
    reason: str  # why it was left: "time budget", "step budget", "region limit"
    x0: float
    x1: float
    top: float
    bottom: float


# ----------------------------------------------------------------------------- geometry


def _transform(direction: int, width: float, height: float) -> Any:
    """A function mapping PDF user space (y up) to reading space (x right, y down)."""
    if direction == 90:  # text runs up the page
        return lambda x, y: (y, x)
    if direction == 270:  # text runs down the page
        return lambda x, y: (height - y, width - x)
    if direction == 180:
        return lambda x, y: (width - x, y)
    return lambda x, y: (x, height - y)


def _box(tf: Any, left: float, b: float, r: float, t: float) -> tuple[float, float, float, float]:
    xa, ya = tf(left, b)
    xb, yb = tf(r, t)
    return min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb)


def _direction(boxes: list[tuple[str, float, float, float, float]]) -> int:
    """The dominant direction text advances in: 0, 90 (up), 180, 270 (down)."""
    votes = {0: 0, 90: 0, 180: 0, 270: 0}
    for (_, l1, b1, r1, t1), (_, l2, b2, r2, t2) in itertools.pairwise(boxes):
        dx = (l2 + r2 - l1 - r1) / 2
        dy = (b2 + t2 - b1 - t1) / 2
        if abs(dx) < 0.5 and abs(dy) < 0.5:
            continue
        if abs(dx) >= abs(dy):
            votes[0 if dx > 0 else 180] += 1
        else:
            votes[90 if dy > 0 else 270] += 1
    return max(votes, key=lambda k: votes[k])


def read_text_layer(page: Any, number: int) -> PageText | None:
    """The page's text layer as visual lines and its ruling lines, in reading coordinates.

    None when the page has fewer than `MIN_TEXT_CHARS` printed glyphs: a scan (or blank).
    """
    import pypdfium2.raw as pdfium_c

    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        text = textpage.get_text_range(0, count) if count else ""
        if sum(1 for ch in text if not ch.isspace()) < MIN_TEXT_CHARS:
            return None
        glyphs: list[tuple[str, float, float, float, float]] = []
        spaced: list[bool] = []
        after_space = True
        for j in range(min(count, len(text))):
            ch = text[j]
            if ch.isspace() or ch in "\x00\ufffe\uffff":
                after_space = True
                continue
            left, bottom, right, top = textpage.get_charbox(j)
            glyphs.append((ch, left, bottom, right, top))
            spaced.append(after_space)
            after_space = False
    finally:
        textpage.close()
    width, height = page.get_size()
    direction = _direction(glyphs[:4000])
    tf = _transform(direction, width, height)
    boxes = []
    for (ch, left, bottom, right, top), space in zip(glyphs, spaced, strict=True):
        x0, y0, x1, y1 = _box(tf, left, bottom, right, top)
        boxes.append((" " + ch if space else ch, x0, y0, x1, y1))
    lines = _visual_lines(boxes)
    h_edges: list[tuple[float, float, float]] = []
    v_edges: list[tuple[float, float, float]] = []
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=3):
        try:
            x0, y0, x1, y1 = _box(tf, *obj.get_bounds())
        except Exception:  # noqa: S112 - a path without bounds draws nothing we need
            continue
        w, h = x1 - x0, y1 - y0
        if w > width * 0.95 and h > height * 0.9:
            continue  # the page frame
        if h <= 2.5 and w > 3:
            h_edges.append(((y0 + y1) / 2, x0, x1))
        elif w <= 2.5 and h > 3:
            v_edges.append(((x0 + x1) / 2, y0, y1))
        elif w > 3 and h > 3:
            h_edges.extend([(y0, x0, x1), (y1, x0, x1)])
            v_edges.extend([(x0, y0, y1), (x1, y0, y1)])
    return PageText(number, lines, h_edges, v_edges)


def _visual_lines(boxes: list[tuple[str, float, float, float, float]]) -> list[VisualLine]:
    glyphs = [b for b in boxes if b[4] - b[2] > 0.1]
    if not glyphs:
        return []
    height = statistics.median(b[4] - b[2] for b in glyphs)
    # punctuation (".", ",", "-") sits off the line's middle: cluster full-height glyphs
    # first, then hang the small ones on the line whose band holds them
    tall = sorted((b for b in glyphs if b[4] - b[2] >= 0.6 * height), key=lambda b: b[2] + b[4])
    small = [b for b in glyphs if b[4] - b[2] < 0.6 * height]
    rows: list[list[tuple[str, float, float, float, float]]] = []
    bands: list[list[float]] = []
    row_cy = -1e9
    for g in tall:
        cy = (g[2] + g[4]) / 2
        if not rows or cy - row_cy > height * 0.55:
            rows.append([g])
            bands.append([g[2], g[4]])
            row_cy = cy
        else:
            rows[-1].append(g)
            bands[-1][0] = min(bands[-1][0], g[2])
            bands[-1][1] = max(bands[-1][1], g[4])
    tops = [b[0] for b in bands]
    for g in small:
        cy = (g[2] + g[4]) / 2
        i = bisect.bisect_right(tops, cy) - 1
        candidates = [k for k in (i, i + 1) if 0 <= k < len(rows)]
        if not candidates:
            rows.append([g])
            bands.append([g[2], g[4]])
            tops.append(g[2])
            continue
        best = min(candidates, key=lambda k: max(bands[k][0] - cy, cy - bands[k][1], 0.0))
        rows[best].append(g)
    gap = max(3.8, 0.78 * height)
    lines: list[VisualLine] = []
    for row in rows:
        row.sort(key=lambda b: b[1])
        phrases: list[Phrase] = []
        for ch, x0, y0, x1, y1 in row:
            last = phrases[-1] if phrases else None
            if last is not None and x0 - last.x1 <= gap:
                # the text layer's own spaces separate words; glyph gaps do not (a narrow
                # "1" leaves a gap as wide as a space)
                last.text += ch
                last.x1 = max(last.x1, x1)
                last.top = min(last.top, y0)
                last.bottom = max(last.bottom, y1)
            else:
                phrases.append(Phrase(x0, x1, y0, y1, ch.lstrip()))
        lines.append(
            VisualLine(phrases, min(p.top for p in phrases), max(p.bottom for p in phrases))
        )
    return lines
