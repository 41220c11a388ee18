"""Symbol placement: each barcode of a scanned page put on the manifest line it is printed on.

A barcode wins over the OCR reading of the same code on its line; one on no line is a loose
code of the page.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import replace
from difflib import SequenceMatcher

from gateway.domain import (
    CodeOccurrence,
    ExtractionMethod,
    ExtractionProblem,
    ManifestLine,
    Severity,
    SourceRef,
)
from gateway.parsers.codes import judge
from gateway.parsers.pages import PageSymbol, PageText


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
    return SequenceMatcher(None, a, b, autojunk=False).ratio() >= 0.8
