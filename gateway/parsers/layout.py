"""Where a page's table is: its header line, its columns and its rows.

The header line is the visual line naming the most manifest columns. Columns come from the
ruling lines crossing it when the table has them, else from the header phrases' left edges;
rows from the ruling lines, else from the printed line numbers. The rows' cells become the
rows of a `Grid` for the shared table reader (`gateway.parsers.assembly`).
"""

from __future__ import annotations

import bisect
import itertools
import statistics
from dataclasses import dataclass

from gateway.parsers.codes import find_codes
from gateway.parsers.columns import map_column
from gateway.parsers.pages import PageText, Phrase, VisualLine
from gateway.parsers.table import TOTAL_LABEL, Value, parse_line_no


@dataclass(slots=True)
class TableLayout:
    """Where the table's columns are, and what they hold."""

    bounds: list[float]  # left edge of each column; a phrase belongs to the last edge <= it
    fields: dict[int, str]
    titles: list[str]
    ruled: bool


def _line_fields(line: VisualLine) -> int:
    names = {map_column(p.text) for p in line.phrases}
    names.discard(None)
    return len(names)


def find_header_line(page: PageText) -> int | None:
    """The index of the line naming the most manifest columns (three at least), if any."""
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


def table_layout(page: PageText, header_index: int) -> tuple[TableLayout, float, float]:
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
    return TableLayout(bounds, fields, titles, ruled), top, bottom


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
class TableRow:
    """One logical row of a page's table: its phrases per column, where it lies."""

    cells: list[list[tuple[float, Phrase]]]
    page: int
    box: list[float]  # x0, top, x1, bottom
    is_line: bool = False
    last_bottom: float = 0.0


def row_cells(rows: list[TableRow]) -> list[list[Value]]:
    """Each row's cells as text: phrases of one visual line joined by spaces, lines by \\n."""
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


def page_rows(page: PageText, layout: TableLayout, start_y: float) -> list[TableRow]:
    """Logical rows of one page below `start_y` (the header band's bottom, or the top)."""
    ncols = len(layout.bounds)
    line_col = next((c for c, f in layout.fields.items() if f == "line_no"), None)
    rows: list[TableRow] = []
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
    current: TableRow | None = None
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
        breaker = any(TOTAL_LABEL.match(t) for t in texts)
        if row_edges:
            band = bisect.bisect_right(row_edges, vl.cy)
            inside = 0 < band < len(row_edges)
            new_row = current is None or band != current_band or not inside or breaker
            current_band = band
        else:
            far = current is not None and vl.top - current.last_bottom > max(2.2 * pitch, 14)
            new_row = current is None or is_anchor or breaker or far
        if new_row:
            current = TableRow(
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


def line_texts(lines: list[VisualLine]) -> list[list[Value]]:
    """Each visual line as a grid row of its phrases (the header block above a table)."""
    return [[p.text for p in vl.phrases] for vl in lines]
