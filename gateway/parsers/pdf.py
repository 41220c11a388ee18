"""PDF -> `Extraction`: text pages through pypdfium2 glyph positions, scanned pages through OCR.

Why not pdfplumber for everything: on the 200-page benchmark its layout analysis costs about
ten times what PDFium's glyph boxes cost, and its memory grows with the page count. PDFium
gives each glyph's box; we build phrases (glyphs closer than a column gap), visual lines, the
table header, the columns (from ruling lines when the table has them, else from the header
phrases' left edges) and the rows (from ruling lines, else from the printed line numbers),
then hand a `Grid` to the shared table reader. Pages drawn sideways (`/Rotate`, or text laid
out along the y axis) are read in their own reading direction.
"""

from __future__ import annotations

import bisect
import itertools
import statistics
from dataclasses import dataclass, field
from typing import Any

from gateway.domain import (
    CodeOccurrence,
    Document,
    Extraction,
    ExtractionMethod,
    ExtractionProblem,
    ManifestLine,
    Severity,
    SourceRef,
)
from gateway.errors import CorruptDocument
from gateway.parsers.codes import find_codes, judge
from gateway.parsers.columns import map_column
from gateway.parsers.limits import Limits, library_message
from gateway.parsers.pdfguard import open_pdf
from gateway.parsers.table import (
    _TOTAL,
    Grid,
    Value,
    parse_line_no,
    read_grid,
    read_header_block,
)

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


def _page_text(page: Any, number: int) -> PageText | None:
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


# ----------------------------------------------------------------------------- table layout


@dataclass(slots=True)
class _Layout:
    """Where the table's columns are, and what they hold."""

    bounds: list[float]  # left edge of each column; a phrase belongs to the last edge <= it
    fields: dict[int, str]
    titles: list[str]
    ruled: bool


def _line_fields(line: VisualLine) -> int:
    names = {map_column(p.text) for p in line.phrases}
    names.discard(None)
    return len(names)


def _find_header_line(page: PageText) -> int | None:
    best, best_score = None, 2
    for i, line in enumerate(page.lines[:120]):
        if any(find_codes(p.text) for p in line.phrases):
            continue
        score = _line_fields(line)
        if score > best_score:
            best, best_score = i, score
    return best


def _merge_positions(values: list[float], tol: float = 2.0) -> list[float]:
    merged: list[float] = []
    for v in sorted(values):
        if merged and v - merged[-1] <= tol:
            continue
        merged.append(v)
    return merged


def _layout(page: PageText, header_index: int) -> tuple[_Layout, float, float]:
    """Columns and the header band (top, bottom) around the header line."""
    line = page.lines[header_index]
    cy = line.cy
    # ruled table: vertical rules crossing the header line give the column edges
    crossing = [x for x, y0, y1 in page.v_edges if y0 - 1 <= cy <= y1 + 1]
    h_above = [y for y, x0, x1 in page.h_edges if y <= line.top + 1]
    h_below = [y for y, x0, x1 in page.h_edges if y >= line.bottom - 1]
    ruled = len(crossing) >= 4 and bool(h_above) and bool(h_below)
    if ruled:
        top, bottom = max(h_above), min(h_below)
        # a header cell may hold several visual lines: the band ends at the next rule below
        # that has text under it, i.e. the first rule below the header line
        edges = _merge_positions(crossing)
        bounds = edges[:-1]
    else:
        top = line.top - 0.5
        bottom = line.bottom + 0.5
        # wrapped header cells ("Country of / Destination") continue on the next lines until
        # the first line that starts with a line number
        for nxt in page.lines[header_index + 1 : header_index + 4]:
            first = nxt.phrases[0].text if nxt.phrases else ""
            if parse_line_no(first.split(" ")[0]) is not None or nxt.top - bottom > 6:
                break
            if any(find_codes(p.text) for p in nxt.phrases):
                break
            bottom = nxt.bottom + 0.5
        band = [p for vl in page.lines if top <= vl.cy <= bottom for p in vl.phrases]
        clusters: list[list[float]] = []
        for p in sorted(band, key=lambda p: p.x0):
            if clusters and p.x0 <= clusters[-1][1] + 1.0:
                clusters[-1][1] = max(clusters[-1][1], p.x1)
            else:
                clusters.append([p.x0, p.x1])
        bounds = [c[0] - 2.0 for c in clusters]
    titles = [""] * len(bounds)
    for vl in page.lines:
        if top <= vl.cy <= bottom:
            for p in vl.phrases:
                col = _column_of(bounds, p, ruled)
                if col is not None:
                    titles[col] = _join_title(titles[col], p.text)
    fields: dict[int, str] = {}
    for i, title in enumerate(titles):
        name = map_column(title)
        if name is not None:
            fields[i] = name
    return _Layout(bounds, fields, titles, ruled), top, bottom


def _join_title(left: str, right: str) -> str:
    """Join header fragments wrapped inside a narrow cell: `Ite` + `m`, `序` + `号`."""
    if not left:
        return right
    if not right:
        return left
    a, b = left[-1], right[0]
    cjk = "\u4e00" <= a <= "\u9fff" and "\u4e00" <= b <= "\u9fff"
    if cjk or (a.isalpha() and b.islower()):
        return left + right
    return f"{left} {right}"


def _column_of(bounds: list[float], p: Phrase, ruled: bool) -> int | None:
    if not bounds:
        return None
    x = p.cx if ruled else p.x0 + 1.0
    i = bisect.bisect_right(bounds, x) - 1
    return max(i, 0)


# ----------------------------------------------------------------------------- rows


@dataclass(slots=True)
class _Row:
    cells: list[list[tuple[float, Phrase]]]
    page: int
    box: list[float]  # x0, top, x1, bottom
    is_line: bool = False
    last_bottom: float = 0.0


def _row_cells(rows: list[_Row]) -> list[list[Value]]:
    out: list[list[Value]] = []
    for row in rows:
        values: list[Value] = []
        for cell in row.cells:
            cell.sort(key=lambda item: (round(item[0], 0), item[1].x0))
            text = ""
            last_cy: float | None = None
            for cy, p in cell:
                if last_cy is None:
                    text = p.text
                elif abs(cy - last_cy) < 2.0:
                    text += " " + p.text
                else:
                    text += "\n" + p.text
                last_cy = cy
            values.append(text or None)
        out.append(values)
    return out


def _page_rows(page: PageText, layout: _Layout, start_y: float) -> list[_Row]:
    """Logical rows of one page below `start_y` (the header band's bottom, or the top)."""
    ncols = len(layout.bounds)
    line_col = next((c for c, f in layout.fields.items() if f == "line_no"), None)
    rows: list[_Row] = []
    body = [vl for vl in page.lines if vl.cy > start_y]
    if not body:
        return rows
    row_edges: list[float] = []
    if layout.ruled and line_col is not None:
        lo = layout.bounds[line_col]
        hi = layout.bounds[line_col + 1] if line_col + 1 < ncols else lo + 30
        mid = (lo + hi) / 2
        row_edges = _merge_positions(
            [y for y, x0, x1 in page.h_edges if x0 - 1 <= mid <= x1 + 1 and y > start_y - 1]
        )
    pitch = statistics.median(
        [b.top - a.top for a, b in itertools.pairwise(body) if b.top > a.top] or [10.0]
    )
    current: _Row | None = None
    current_band: int | None = None
    for vl in body:
        first_col_text = ""
        cells: list[list[tuple[float, Phrase]]] = [[] for _ in range(ncols)]
        for p in vl.phrases:
            col = _column_of(layout.bounds, p, layout.ruled)
            if col is None:
                continue
            cells[col].append((vl.cy, p))
            if col == line_col and not first_col_text:
                first_col_text = p.text
        is_anchor = line_col is not None and parse_line_no(first_col_text) is not None
        texts = [p.text for p in vl.phrases]
        breaker = any(_TOTAL.match(t) for t in texts)
        if row_edges:
            band = bisect.bisect_right(row_edges, vl.cy)
            inside = 0 < band < len(row_edges)
            new_row = current is None or band != current_band or not inside or breaker
            current_band = band
        else:
            far = current is not None and vl.top - current.last_bottom > max(2.2 * pitch, 14)
            new_row = current is None or is_anchor or breaker or far
        if new_row:
            current = _Row(
                cells, page.number, [vl.phrases[0].x0, vl.top, vl.phrases[-1].x1, vl.bottom]
            )
            current.is_line = is_anchor
            rows.append(current)
        else:
            assert current is not None
            for i, cell in enumerate(cells):
                current.cells[i].extend(cell)
            current.box[2] = max(current.box[2], vl.phrases[-1].x1)
            current.box[3] = max(current.box[3], vl.bottom)
            current.is_line = current.is_line or is_anchor
        current.last_bottom = vl.bottom
    return rows


def _line_texts(lines: list[VisualLine]) -> list[list[Value]]:
    return [[p.text for p in vl.phrases] for vl in lines]


# ----------------------------------------------------------------------------- document


def read_pdf(data: bytes, document: Document, limits: Limits) -> Extraction:
    """Read a PDF: text pages as tables, scanned pages through barcodes and OCR."""
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
                text = _page_text(page, i + 1)
                if text is None and len(scanned) < limits.max_ocr_pages:
                    scanned.append(i + 1)
                    text = _ocr_or_report(page, i + 1, limits, document.id, unread)
            finally:
                page.close()
            if text is not None:
                texts.append(text)
        method = "pdf_scan" if len(scanned) == count else "pdf_text"
        extraction = read_text_pages(texts, document, count, method=method, scanned=set(scanned))
        if unread:
            from dataclasses import replace

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


def read_text_pages(
    pages: list[PageText],
    document: Document,
    count: int,
    *,
    method: str = "pdf_text",
    scanned: set[int] | None = None,
) -> Extraction:
    from gateway.parsers import finish

    # a table is one segment; a later page whose header names other columns (a scanned
    # page from another system, an annex) starts a segment of its own
    segments: list[tuple[_Layout, list[_Row]]] = []
    header_rows: list[list[Value]] = []
    footer_texts: list[list[Value]] = []
    for page in pages:
        index = _find_header_line(page)
        start_y = -1e9
        if index is not None:
            new_layout, top, bottom = _layout(page, index)
            if not segments:
                header_rows = _line_texts([vl for vl in page.lines if vl.bottom < top])
                segments.append((new_layout, []))
            else:
                layout = segments[-1][0]
                if len(new_layout.bounds) == len(layout.bounds):
                    layout = _Layout(
                        new_layout.bounds, layout.fields, layout.titles, new_layout.ruled
                    )
                    segments[-1] = (layout, segments[-1][1])
                else:
                    segments.append((new_layout, []))
            start_y = bottom
        if not segments:
            footer_texts.extend(_line_texts(page.lines))
            continue
        segments[-1][1].extend(_page_rows(page, segments[-1][0], start_y))
    problems: list[ExtractionProblem] = []
    if not segments:
        # no table: a label page, a letter, a certificate. Its codes are loose codes of the
        # page where they are printed; the barcodes of a scanned page come first
        block = read_header_block(footer_texts)
        loose_codes = _loose_codes(pages, document.id, method, scanned or set(), problems)
        return finish(
            document, block, [], problems, method=method, pages=count, loose_codes=loose_codes
        )
    lines: list[ManifestLine] = []
    header: dict[str, str] = {}
    for number, (layout, rows) in enumerate(segments):
        above = header_rows if number == 0 else []
        grid_rows: list[list[Value]] = [*above, list(layout.titles)]
        grid_rows.extend(_row_cells(rows))
        first_page = rows[0].page if rows else 1
        refs: list[tuple[int | None, int | None]] = [(None, first_page)] * (len(above) + 1)
        refs.extend((None, r.page) for r in rows)
        boxes: list[tuple[float, float, float, float] | None] = [None] * (len(above) + 1)
        boxes.extend((r.box[0], r.box[1], r.box[2], r.box[3]) for r in rows)
        grid = Grid(
            rows=grid_rows, method=ExtractionMethod.PDF_TEXT, row_refs=refs, row_boxes=boxes
        )
        hint = (len(above), 1, dict(layout.fields))
        wide = {k: v for k, v in header.items() if k in ("destination", "hs_code", "un_number")}
        result = read_grid(grid, document.id, header_hint=hint, defaults=wide)
        for key, value in result.header.items():
            header.setdefault(key, value)
        problems.extend(result.problems)
        lines.extend(result.lines)
    loose: list[CodeOccurrence] = []
    if scanned:
        lines = [_as_ocr(line, problems) if line.source.page in scanned else line for line in lines]
        barcode = (
            ExtractionMethod.BARCODE_IMAGE if method == "image" else ExtractionMethod.BARCODE_PDF
        )
        for page in pages:
            if page.symbols:
                lines, extra = place_symbols(lines, page, document.id, barcode, problems)
                loose.extend(extra)
    return finish(
        document,
        header,
        lines,
        problems,
        method=method,
        pages=count,
        loose_codes=tuple(loose),
    )


def place_symbols(
    lines: list[ManifestLine],
    page: PageText,
    document_id: str,
    method: ExtractionMethod,
    problems: list[ExtractionProblem],
) -> tuple[list[ManifestLine], list[CodeOccurrence]]:
    """Put each barcode of a scanned page on the line it is printed on.

    One physical code is one record: a barcode wins over the OCR reading of the text on its
    line. An OCR'd code that the barcode confirms (same identifier) is dropped; one that it
    contradicts (the same kind of code, a few characters apart: a misreading) is dropped and
    reported. A barcode that is on no line is a loose code of the page.
    """
    from dataclasses import replace

    out = list(lines)
    loose: list[CodeOccurrence] = []
    on_page = [i for i, line in enumerate(out) if line.source.page == page.number]
    for sym in page.symbols:
        decoded = judge(sym.raw)
        index = _line_at(out, on_page, sym)
        line_no = out[index].line_no if index is not None else None
        occ = CodeOccurrence(
            raw=sym.raw,
            source=SourceRef(
                document_id,
                page=page.number,
                bbox=(sym.x0, sym.top, sym.x1, sym.bottom),
                line=line_no,
            ),
            method=method,
            symbology=sym.symbology,
            quad=sym.quad,
        )
        if index is None:
            loose.append(occ)
            continue
        line = out[index]
        kept: list[CodeOccurrence] = []
        for code in line.codes:
            # a barcode the engine finds invalid is still what is printed: it is reported,
            # and the OCR reading of the line stays beside it
            if code.method is ExtractionMethod.OCR and decoded.valid and decoded.key:
                other = judge(code.raw)
                if other.key == decoded.key:
                    continue  # the same code, read twice
                if _misread(other.key, decoded.key) and other.scheme == decoded.scheme:
                    problems.append(
                        ExtractionProblem(
                            kind="ocr_contradicts_barcode",
                            message=(
                                f"On line {line_no} (page {page.number}) the printed code was "
                                f"read as {other.key!r} but the barcode says {decoded.key!r}; "
                                f"the barcode is taken."
                            ),
                            source=code.source,
                            line_no=line_no,
                            severity=Severity.WARN,
                        )
                    )
                    continue
            kept.append(code)
        out[index] = replace(line, codes=(occ, *kept))
    return out, loose


def _line_at(lines: list[ManifestLine], candidates: list[int], sym: PageSymbol) -> int | None:
    """The line whose band of the page holds the symbol's middle.

    A line owns the band from a quarter of the gap above its first text row to a quarter of
    the gap above the next line: a barcode beside top-aligned text sits in the upper part of
    its row, one beside vertically centred text has its middle on the text.
    """
    rows = sorted(
        (box[1], box[3], i) for i in candidates if (box := lines[i].source.bbox) is not None
    )
    if not rows:
        return None
    tops = [top for top, _, _ in rows]
    gaps = [b - a for a, b in itertools.pairwise(tops)]
    pitch = statistics.median(gaps) if gaps else max(rows[0][1] - rows[0][0], 1.0) * 3
    cy = (sym.top + sym.bottom) / 2
    for k, (top, _bottom, i) in enumerate(rows):
        gap_above = gaps[k - 1] if k > 0 else pitch
        gap_below = gaps[k] if k < len(gaps) else pitch
        if top - 0.25 * gap_above <= cy < top + 0.75 * gap_below:
            return i
    return None


def _misread(a: str | None, b: str | None) -> bool:
    """Two keys that differ in a few characters (changed, lost or added): one is a misreading."""
    if a is None or b is None:
        return False
    from difflib import SequenceMatcher

    return SequenceMatcher(None, a, b, autojunk=False).ratio() >= 0.8


def _as_ocr(line: ManifestLine, problems: list[ExtractionProblem]) -> ManifestLine:
    """Codes of a scanned page were read by OCR, not from a text layer.

    An OCR reading the engine rejects is more often a misread character than a mistyped
    code: it is a possible code for a person to look at (warn), not an invalid code.
    """
    from dataclasses import replace

    codes: list[CodeOccurrence] = []
    for code in line.codes:
        if judge(code.raw).valid:
            codes.append(replace(code, method=ExtractionMethod.OCR))
        else:
            problems.append(_ocr_possible(code.raw, code.source, line.line_no))
    return replace(line, codes=tuple(codes))


def _ocr_possible(raw: str, source: SourceRef, line_no: str | None) -> ExtractionProblem:
    where = f"line {line_no}" if line_no else source.describe()
    return ExtractionProblem(
        kind="possible_code",
        message=(
            f"The scanned text on {where} ({source.describe()}) reads {raw!r}, which is not a "
            f"valid code: the scan may be misread; please check the printed code."
        ),
        source=source,
        line_no=line_no,
        severity=Severity.WARN,
    )


def _loose_codes(
    pages: list[PageText],
    document_id: str,
    method: str,
    scanned: set[int],
    problems: list[ExtractionProblem],
) -> tuple[CodeOccurrence, ...]:
    """Every code of pages that hold no table: barcodes, then codes in the text lines."""
    barcode = ExtractionMethod.BARCODE_IMAGE if method == "image" else ExtractionMethod.BARCODE_PDF
    out: list[CodeOccurrence] = []
    for page in pages:
        text_method = ExtractionMethod.OCR if page.number in scanned else ExtractionMethod.PDF_TEXT
        read_by_barcode = {judge(sym.raw).key for sym in page.symbols}
        for sym in page.symbols:
            box = (sym.x0, sym.top, sym.x1, sym.bottom)
            out.append(
                CodeOccurrence(
                    raw=sym.raw,
                    source=SourceRef(document_id, page=page.number, bbox=box),
                    method=barcode,
                    symbology=sym.symbology,
                    quad=sym.quad,
                )
            )
        for vl in page.lines:
            text = " ".join(p.text for p in vl.phrases)
            box = (vl.phrases[0].x0, vl.top, vl.phrases[-1].x1, vl.bottom)
            for found in find_codes(text, running_text=True):
                if found.decoded.key is not None and found.decoded.key in read_by_barcode:
                    continue  # the printed text under a barcode, read twice
                ref = SourceRef(document_id, page=page.number, bbox=box)
                if text_method is ExtractionMethod.OCR and not found.valid:
                    problems.append(_ocr_possible(found.raw, ref, None))
                    continue
                out.append(CodeOccurrence(raw=found.raw, source=ref, method=text_method))
    return tuple(out)
