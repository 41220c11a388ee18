"""Assembly: the records read from a document put together into one `Extraction`.

Spreadsheets arrive as `Grid`s, one per sheet (`assemble_grids`); PDF and scanned pages as
page records (`assemble_pages`), whose tables are laid out into grid rows
(`gateway.parsers.layout`), read by the same table reader, and whose barcodes are placed on
their lines (`gateway.parsers.placement`). A page without a table gives loose codes. Every
reader ends in `assemble`, which says so when nothing at all could be read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

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
from gateway.parsers.codes import find_codes, judge
from gateway.parsers.layout import (
    TableLayout,
    TableRow,
    find_header_line,
    line_texts,
    page_rows,
    row_cells,
    table_layout,
)
from gateway.parsers.pages import PageText
from gateway.parsers.placement import place_symbols
from gateway.parsers.table import Grid, Value, read_grid, read_header_block


def assemble(
    document: Document,
    header: dict[str, str],
    lines: list[ManifestLine],
    problems: list[ExtractionProblem],
    *,
    method: str,
    pages: int | None = None,
    loose_codes: tuple[object, ...] = (),
) -> Extraction:
    """Assemble the extraction and say so when nothing at all could be read."""
    loose = tuple(c for c in loose_codes if isinstance(c, CodeOccurrence))
    if (
        not any(line.codes for line in lines)
        and not loose
        and not any(p.kind == "identifier_destroyed_in_document" for p in problems)
    ):
        problems.append(
            ExtractionProblem(
                kind="no_codes_found",
                message=(
                    f"No battery identifiers were found in {document.filename or document.id!r} "
                    f"({len(lines)} manifest lines read)."
                ),
                severity=Severity.WARN,
            )
        )
    return Extraction(
        document=document,
        header=header,
        lines=tuple(lines),
        loose_codes=loose,
        problems=tuple(problems),
        pages=pages,
        method=method,
    )


def assemble_grids(document: Document, grids: Iterable[Grid], method: str) -> Extraction:
    """Read each sheet; the first sheet's header block applies to sheets without their own."""
    header: dict[str, str] = {}
    lines: list[ManifestLine] = []
    problems: list[ExtractionProblem] = []
    for grid in grids:
        defaults = {k: v for k, v in header.items() if k in ("destination", "hs_code", "un_number")}
        result = read_grid(grid, document.id, defaults=defaults)
        for key, value in result.header.items():
            header.setdefault(key, value)
        lines.extend(result.lines)
        problems.extend(result.problems)
    return assemble(document, header, lines, problems, method=method)


def with_problems(ex: Extraction, extra: Iterable[ExtractionProblem]) -> Extraction:
    """`ex` with `extra` problems after its own."""
    return Extraction(
        document=ex.document,
        header=ex.header,
        lines=ex.lines,
        loose_codes=ex.loose_codes,
        problems=(*ex.problems, *extra),
        pages=ex.pages,
        method=ex.method,
    )


# barcode-like areas that could not be read: on a label photo, or on a scanned page
REGIONS_UNREAD = "regions_unread"


def _unread_barcodes(pages: list[PageText], document_id: str) -> list[ExtractionProblem]:
    """One problem per scanned page whose barcode pass stopped at a limit: which areas."""
    problems: list[ExtractionProblem] = []
    for page in pages:
        if not page.unread:
            continue
        why = sorted({area.reason for area in page.unread})
        where = "; ".join(
            f"{area.kind} at x {area.x0:.0f}-{area.x1:.0f}, y {area.top:.0f}-{area.bottom:.0f} pt"
            for area in page.unread
        )
        problems.append(
            ExtractionProblem(
                kind=REGIONS_UNREAD,
                message=(
                    f"{len(page.unread)} barcode-like area(s) of page {page.number} were not "
                    f"read ({', '.join(why)}): {where}. A barcode there is not in this "
                    f"extraction; its printed text is, when OCR read it."
                ),
                source=SourceRef(document_id, page=page.number),
                severity=Severity.INFO,
            )
        )
    return problems


# a scanned page that gave nothing, read with a mean recognizer confidence under this, may
# have lost its lines to a poor scan (an upright clean page reads at 0.95-1.0)
POOR_READING = 0.8


def _silent_scans(
    pages: list[PageText],
    scanned: set[int] | None,
    lines: Iterable[ManifestLine],
    codes: Iterable[object],
    problems: list[ExtractionProblem],
    document_id: str,
) -> list[ExtractionProblem]:
    """A problem for each scanned page that gave no line, code or problem of its own and
    could not be read: blank (info), no text read in any orientation or text read poorly
    (warn). A page read well that holds no code (a letter, a certificate) is not one."""
    if not scanned:
        return []
    given = {line.source.page for line in lines}
    given |= {c.source.page for c in codes if isinstance(c, CodeOccurrence)}
    given |= {p.source.page for p in problems if p.source is not None}
    out: list[ExtractionProblem] = []
    for page in pages:
        if page.number not in scanned or page.number in given or page.symbols:
            continue
        if page.blank:
            message = (
                f"Page {page.number} is a scanned image with nothing printed on it (a blank "
                f"page); if it should carry lines, rescan it."
            )
            severity = Severity.INFO
        elif not page.lines:
            message = (
                f"Page {page.number} is a scanned image on which no text could be read in any "
                f"orientation; its lines, if it has any, are missing from this extraction. "
                f"Rescan it upright and in focus."
            )
            severity = Severity.WARN
        elif page.confidence is not None and page.confidence < POOR_READING:
            message = (
                f"Page {page.number} is a scanned image whose text was read poorly (mean "
                f"confidence {page.confidence:.2f}) and gave no manifest line or code; its "
                f"lines, if it has any, are missing from this extraction. Rescan it upright "
                f"and in focus."
            )
            severity = Severity.WARN
        else:
            continue
        out.append(
            ExtractionProblem(
                kind="page_unreadable",
                message=message,
                source=SourceRef(document_id, page=page.number),
                severity=severity,
            )
        )
    return out


def assemble_pages(
    pages: list[PageText],
    document: Document,
    count: int,
    *,
    method: str = "pdf_text",
    scanned: set[int] | None = None,
) -> Extraction:
    """The extraction of a document's pages: each table through the shared table reader.

    Args:
        pages: the pages read (text layer or OCR), in order.
        document: the document they belong to.
        count: its number of pages (a page may be unread).
        method: "pdf_text", "pdf_scan" or "image".
        scanned: numbers of the pages read by OCR; their codes are OCR readings and their
            barcodes are placed on their lines.
    """
    # a table is one segment; a later page whose header names other columns (a scanned
    # page from another system, an annex) starts a segment of its own
    segments: list[tuple[TableLayout, list[TableRow]]] = []
    header_rows: list[list[Value]] = []
    footer_texts: list[list[Value]] = []
    for page in pages:
        index = find_header_line(page)
        start_y = -1e9
        if index is not None:
            new_layout, top, bottom = table_layout(page, index)
            if not segments:
                header_rows = line_texts([vl for vl in page.lines if vl.bottom < top])
                segments.append((new_layout, []))
            else:
                layout = segments[-1][0]
                if len(new_layout.bounds) == len(layout.bounds):
                    layout = TableLayout(
                        new_layout.bounds, layout.fields, layout.titles, new_layout.ruled
                    )
                    segments[-1] = (layout, segments[-1][1])
                else:
                    segments.append((new_layout, []))
            start_y = bottom
        if not segments:
            footer_texts.extend(line_texts(page.lines))
            continue
        segments[-1][1].extend(page_rows(page, segments[-1][0], start_y))
    problems = _unread_barcodes(pages, document.id)
    if not segments:
        # no table: a label page, a letter, a certificate. Its codes are loose codes of the
        # page where they are printed; the barcodes of a scanned page come first
        block = read_header_block(footer_texts)
        loose_codes = _loose_codes(pages, document.id, method, scanned or set(), problems)
        problems.extend(_silent_scans(pages, scanned, [], loose_codes, problems, document.id))
        return assemble(
            document, block, [], problems, method=method, pages=count, loose_codes=loose_codes
        )
    lines: list[ManifestLine] = []
    header: dict[str, str] = {}
    for number, (layout, rows) in enumerate(segments):
        above = header_rows if number == 0 else []
        grid_rows: list[list[Value]] = [*above, list(layout.titles)]
        grid_rows.extend(row_cells(rows))
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
        problems.extend(_silent_scans(pages, scanned, lines, loose, problems, document.id))
    return assemble(
        document,
        header,
        lines,
        problems,
        method=method,
        pages=count,
        loose_codes=tuple(loose),
    )


def _as_ocr(line: ManifestLine, problems: list[ExtractionProblem]) -> ManifestLine:
    """Codes of a scanned page were read by OCR, not from a text layer.

    An OCR reading the engine rejects is more often a misread character than a mistyped
    code: it is a possible code for a person to look at (warn), not an invalid code.
    """
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
