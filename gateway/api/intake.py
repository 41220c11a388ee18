"""Intake of uploaded bytes: type sniffed from the bytes, display names made safe.

The document parsers own the authoritative sniffing (`gateway.parsers.sniff`); until that
module is present a minimal magic-byte check with the same allowlist is used, so intake
never accepts a type the pipeline cannot read.
"""

from __future__ import annotations

import importlib
import unicodedata
from pathlib import PurePosixPath

from gateway.errors import UnsupportedDocument

_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/vnd.ms-excel"),
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _fallback_sniff(data: bytes, filename: str) -> str:
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    if data.startswith(b"PK\x03\x04"):
        if b"[Content_Types].xml" in data[:65536] or b"xl/" in data[:65536]:
            return XLSX
    elif filename.lower().endswith((".csv", ".txt")):
        try:
            data[:65536].decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if b"\x00" not in data[:65536]:
                return "text/csv"
    msg = (
        f"Document {filename!r} is not a supported type: expected PDF, XLSX, XLS, CSV, "
        f"PNG, JPEG or TIFF, got bytes starting {data[:8]!r}."
    )
    raise UnsupportedDocument(msg)


def sniff(data: bytes, filename: str) -> str:
    """The media type of `data`, from its bytes; UnsupportedDocument when not readable."""
    try:
        parsers = importlib.import_module("gateway.parsers")
    except ImportError:
        parsers = None
    if parsers is not None and hasattr(parsers, "sniff"):
        try:
            media_type: str = parsers.sniff(data, filename)
        except UnsupportedDocument as exc:  # name the file: a person must know which one
            msg = f"Document {filename!r}: {exc}"
            raise UnsupportedDocument(msg) from None
        return media_type
    return _fallback_sniff(data, filename)


def display_name(filename: str | None, position: int) -> str:
    """A safe display name: base name only, controls and bidi/format chars removed, capped."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"))
    name = name.strip() or f"document-{position + 1}"
    while len(name.encode()) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:-1] + dot + ext) if dot and stem else name[:-1]
    return name
