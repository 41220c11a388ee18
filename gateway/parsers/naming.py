"""What a file's name promises against what its bytes are: read by content, said if they differ."""

from __future__ import annotations

import dataclasses

from gateway.domain import Extraction, ExtractionProblem, Severity
from gateway.parsers.sniff import CSV, JPEG, PDF, PNG, TIFF, TSV, XLS, XLSM, XLSX

_TEXT = (CSV, TSV)
# what a file name promises: its extension -> the types read from bytes that keep the promise
_NAMED_TYPES: dict[str, tuple[tuple[str, ...], str]] = {
    ".xlsx": ((XLSX,), "an Excel workbook"),
    ".xlsm": ((XLSM, XLSX), "a macro-enabled Excel workbook"),
    ".xls": ((XLS,), "an Excel 97-2003 workbook"),
    ".csv": (_TEXT, "a CSV file"),
    ".tsv": (_TEXT, "a tab-separated file"),
    ".txt": (_TEXT, "a text file"),
    ".pdf": ((PDF,), "a PDF"),
    ".png": ((PNG,), "a PNG image"),
    ".jpg": ((JPEG,), "a JPEG image"),
    ".jpeg": ((JPEG,), "a JPEG image"),
    ".tif": ((TIFF,), "a TIFF image"),
    ".tiff": ((TIFF,), "a TIFF image"),
}
_CONTENT_NAMES = {
    PDF: "a PDF",
    XLS: "an Excel 97-2003 workbook",
    XLSM: "a macro-enabled Excel workbook",
    XLSX: "an Excel workbook",
    CSV: "CSV text",
    TSV: "tab-separated text",
    PNG: "a PNG image",
    JPEG: "a JPEG image",
    TIFF: "a TIFF image",
}


def name_mismatch(filename: str, media_type: str) -> str | None:
    """A sentence naming how a file's content differs from what its name says, or None.

    The content decides how a document is read; a name that says otherwise (a PDF named
    `.xlsx`, macros under a plain workbook's name) is worth a person's look: a wrong
    export, or a file dressed up as another.
    """
    dot = filename.rfind(".")
    promised = _NAMED_TYPES.get(filename[dot:].lower()) if dot >= 0 else None
    if promised is None or media_type in promised[0]:
        return None
    content = _CONTENT_NAMES.get(media_type, media_type)
    return (
        f"{filename!r} is named as {promised[1]} but its content is {content}; "
        f"it was read as {content}. Check that this is the document you meant to send."
    )


def with_name_check(extraction: Extraction) -> Extraction:
    """The extraction with a warning when its document's type differs from its name."""
    document = extraction.document
    sentence = name_mismatch(document.filename, document.media_type)
    if sentence is None:
        return extraction
    problem = ExtractionProblem(
        kind="type_differs_from_name", message=sentence, severity=Severity.WARN
    )
    return dataclasses.replace(extraction, problems=(*extraction.problems, problem))
