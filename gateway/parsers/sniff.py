"""Document type from the bytes; the file name is only a hint between text formats."""

from __future__ import annotations

import io
import zipfile

from gateway.errors import UnsupportedDocument
from gateway.parsers.limits import library_message

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSM = "application/vnd.ms-excel.sheet.macroEnabled.12"
XLS = "application/vnd.ms-excel"
CSV = "text/csv"
TSV = "text/tab-separated-values"
PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"

SPREADSHEETS = frozenset({XLSX, XLSM, XLS})
IMAGES = frozenset({PNG, JPEG, TIFF})


def sniff(data: bytes, filename: str = "") -> str:
    """The media type of a document, decided by its content.

    Raises:
        UnsupportedDocument: the bytes are not a type the gateway reads (HTML, SVG, a ZIP
            that is not a workbook, binary data, ...).
    """
    head = data[:8]
    if data[:1024].lstrip().startswith(b"%PDF-") or b"%PDF-" in data[:1024]:
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(data)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return XLS
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    return _sniff_text(data, filename)


def _sniff_zip(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                msg = (
                    "Document is a ZIP container but not an Excel workbook: expected "
                    "'xl/workbook.xml' and '[Content_Types].xml'."
                )
                raise UnsupportedDocument(msg)
            info = zf.getinfo("[Content_Types].xml")
            if info.file_size > 1_000_000:
                msg = f"Workbook content types part is {info.file_size} bytes; refusing it."
                raise UnsupportedDocument(msg)
            types = zf.read(info)
    except zipfile.BadZipFile as exc:
        msg = f"Document starts like a ZIP container but is not one: {library_message(exc)}."
        raise UnsupportedDocument(msg) from exc
    if b"macroEnabled" in types or "xl/vbaProject.bin" in names:
        return XLSM
    return XLSX


def _sniff_text(data: bytes, filename: str) -> str:
    sample = data[:65536]
    if not sample.strip():
        msg = "Document is empty."
        raise UnsupportedDocument(msg)
    if b"\x00" in sample:
        msg = (
            "Document is binary data of an unknown type; expected xlsx, xls, csv, pdf or an image."
        )
        raise UnsupportedDocument(msg)
    text: str | None = None
    body = sample[3:] if sample.startswith(b"\xef\xbb\xbf") else sample
    for encoding in ("utf-8", "gb18030"):
        try:
            # the sample may end inside a multi-byte character
            text = body.decode(encoding) if len(data) <= 65536 else body[:-4].decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        msg = "Document is neither a known binary type nor UTF-8/GB18030 text."
        raise UnsupportedDocument(msg)
    lowered = text.lstrip().lower()
    if lowered.startswith(("<!doctype", "<html", "<?xml", "<svg", "{", "[")):
        msg = f"Document is markup or JSON ({lowered[:15]!r}...), not a delimited table."
        raise UnsupportedDocument(msg)
    if filename.lower().endswith(".tsv") or text.count("\t") > text.count(",") + text.count(";"):
        return TSV
    return CSV
