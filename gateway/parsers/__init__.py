"""Document extraction: bytes of a manifest, packing list or scan -> one `Extraction`.

    from gateway.parsers import extract, sniff
    media_type = sniff(data, "list.xlsx")            # from the bytes; raises UnsupportedDocument
    extraction = extract(data, filename="list.xlsx")  # raises only InputError subclasses

`extract` sniffs the type from the bytes and hands the document to the one reader `PARSERS`
names for it: `sheets` (XLSX, XLSM, XLS, CSV, TSV), `pdf`, `image`. Each ends in
`assembly`. `extract` runs in the calling process; `gateway.parsers.sandbox.extract_sandboxed`
runs the same code in a child process with memory, CPU, time and output limits, which is how
untrusted uploads must be read.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Mapping

from gateway.domain import Document, Extraction
from gateway.errors import (
    CorruptDocument,
    InputError,
    ResourceLimitExceeded,
    UnsupportedDocument,
)
from gateway.parsers.image import read_image
from gateway.parsers.limits import (
    DEFAULT_LIMITS,
    Limits,
    check_size,
    harden_libraries,
    library_message,
)
from gateway.parsers.naming import with_name_check
from gateway.parsers.pdf import read_pdf
from gateway.parsers.sheets import (
    read_delimited,
    read_legacy_workbook,
    read_macro_workbook,
    read_workbook,
)
from gateway.parsers.sniff import CSV, IMAGES, PDF, TSV, XLS, XLSM, XLSX, sniff

__all__ = ["PARSERS", "Limits", "Reader", "extract", "sniff"]

# A reader: the document's bytes, its record and the limits in, its extraction out. It may
# raise any exception on malformed input; `extract` turns those into InputError subclasses.
Reader = Callable[[bytes, Document, Limits], Extraction]

# The one dispatch from a media type sniffed from the bytes to the reader of that type.
PARSERS: Mapping[str, Reader] = {
    XLSX: read_workbook,
    XLSM: read_macro_workbook,
    XLS: read_legacy_workbook,
    CSV: read_delimited,
    TSV: read_delimited,
    PDF: read_pdf,
    **dict.fromkeys(IMAGES, read_image),
}


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
    reader = PARSERS.get(media_type)
    if reader is None:
        msg = f"Documents of type {media_type!r} are not read by the gateway."
        raise UnsupportedDocument(msg)
    try:
        return reader(data, document, limits)
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
