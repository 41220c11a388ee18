"""Document extraction: bytes of a manifest, packing list or scan -> one `Extraction`.

    from gateway.parsers import extract, sniff
    media_type = sniff(data, "list.xlsx")            # from the bytes; raises UnsupportedDocument
    extraction = extract(data, filename="list.xlsx")  # raises only InputError subclasses

`extract` runs in the calling process; `gateway.parsers.sandbox.extract_sandboxed` runs the
same code in a child process with memory, CPU, time and output limits, which is how untrusted
uploads must be read.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterable

from gateway.domain import Document, Extraction, ExtractionProblem, ManifestLine, Severity
from gateway.errors import (
    CorruptDocument,
    InputError,
    ResourceLimitExceeded,
    UnsupportedDocument,
)
from gateway.parsers.limits import (
    DEFAULT_LIMITS,
    Limits,
    check_size,
    harden_libraries,
    library_message,
)
from gateway.parsers.naming import with_name_check
from gateway.parsers.sniff import CSV, IMAGES, PDF, TSV, XLS, XLSM, XLSX, sniff
from gateway.parsers.table import Grid, read_grid

__all__ = ["Limits", "extract", "sniff"]


def extract(
    data: bytes,
    *,
    filename: str = "",
    document_id: str = "doc-1",
    limits: Limits | None = None,
) -> Extraction:
    """Read every manifest line, code and header field of one document.

    Args:
        data: the document's bytes.
        filename: display name; used only to tell TSV from CSV.
        document_id: id put into every `SourceRef`.
        limits: caps on size, rows, pages and pixels (defaults: `Limits()`).

    Raises:
        UnsupportedDocument: the type sniffed from the bytes is not one we read.
        DocumentTooLarge: a size, row, page or pixel cap was exceeded.
        CorruptDocument: the document claims a type but cannot be read as one.
    """
    limits = limits or DEFAULT_LIMITS
    check_size(data, limits)
    harden_libraries(limits)
    media_type = sniff(data, filename)
    # A large sheet allocates millions of small objects and no reference cycles; the cyclic
    # collector would walk them over and over (about a fifth of the time on 20,000 lines).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return with_name_check(_extract(data, media_type, filename, document_id, limits))
    finally:
        if collecting:
            gc.enable()


def _extract(
    data: bytes, media_type: str, filename: str, document_id: str, limits: Limits
) -> Extraction:
    document = Document(
        id=document_id,
        filename=filename,
        media_type=media_type,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )
    try:
        if media_type in (XLSX, XLSM):
            from gateway.parsers.excel import read_xlsx

            extraction = _from_grids(document, read_xlsx(data, limits), "xlsx")
            if media_type == XLSM:
                note = ExtractionProblem(
                    kind="macros_ignored",
                    message="Workbook contains macros; they were not run, only cell data read.",
                    severity=Severity.INFO,
                )
                extraction = _with_problems(extraction, [note])
            return extraction
        if media_type == XLS:
            from gateway.parsers.excel import read_xls

            return _from_grids(document, read_xls(data, limits), "xls")
        if media_type in (CSV, TSV):
            from gateway.parsers.excel import read_csv

            return _from_grids(document, read_csv(data, limits), "csv")
        if media_type == PDF:
            from gateway.parsers.pdf import read_pdf

            return read_pdf(data, document, limits)  # streams measured first (pdfguard)
        if media_type in IMAGES:
            from gateway.parsers.image import read_image

            return read_image(data, document, limits)
    except InputError:
        raise
    except MemoryError as exc:
        msg = f"Reading the {media_type} document ran out of memory."
        raise ResourceLimitExceeded(msg, limit="memory_bytes") from exc
    except RecursionError as exc:
        msg = f"Reading the {media_type} document nested too deeply ({library_message(exc)})."
        raise CorruptDocument(msg) from exc
    except Exception as exc:  # parsing libraries raise anything on malformed input
        msg = f"Failed to read the document as {media_type}: {library_message(exc)}."
        raise CorruptDocument(msg[:500]) from exc
    msg = f"Documents of type {media_type!r} are not read by the gateway."
    raise UnsupportedDocument(msg)


def _with_problems(ex: Extraction, extra: Iterable[ExtractionProblem]) -> Extraction:
    return Extraction(
        document=ex.document,
        header=ex.header,
        lines=ex.lines,
        loose_codes=ex.loose_codes,
        problems=(*ex.problems, *extra),
        pages=ex.pages,
        method=ex.method,
    )


def _from_grids(document: Document, grids: Iterable[Grid], method: str) -> Extraction:
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
    return finish(document, header, lines, problems, method=method)


def finish(
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
    from gateway.domain import CodeOccurrence

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
