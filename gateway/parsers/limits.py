"""Input limits, and the switches that make the parsing libraries safe to call.

Every limit is a field of `Limits`; the defaults suit packing lists (a 20,000-line workbook,
a 500-page PDF) with room to spare, and stop hostile files long before they hurt.
"""

from __future__ import annotations

import os
import sys
import warnings
from dataclasses import dataclass

from gateway.errors import DocumentTooLarge, library_message


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps applied while reading one document (in process and in the sandbox child)."""

    max_bytes: int = 50 * 1024 * 1024  # the upload itself
    # zip container (xlsx): checked before any XML is read
    zip_max_entries: int = 2000
    zip_max_total_uncompressed: int = 300 * 1024 * 1024
    zip_max_entry_uncompressed: int = 200 * 1024 * 1024
    zip_max_ratio: float = 200.0
    # sheets and CSV
    max_rows: int = 100_000
    max_columns: int = 200
    max_cell_chars: int = 32_767  # Excel's own cell limit
    max_sheets: int = 100
    # PDF and images
    max_pages: int = 500
    pdf_max_stream_inflated: int = 64 * 1024 * 1024  # one FlateDecode stream, inflated
    pdf_max_total_inflated: int = 256 * 1024 * 1024  # all streams of one PDF, inflated
    max_render_pixels: int = 16_000_000  # one rendered page bitmap (A2 at 200 dpi)
    max_image_pixels: int = 40_000_000
    max_ocr_pages: int = 50
    # the sandbox child
    memory_bytes: int = 1536 * 1024 * 1024  # address space: OCR model + label reader map ~1.1 GiB
    cpu_seconds: int = 120
    wall_seconds: float = 180.0
    max_output_bytes: int = 64 * 1024 * 1024
    max_file_bytes: int = 16 * 1024 * 1024  # what the child may write (temp files)


DEFAULT_LIMITS = Limits()


def check_size(data: bytes, limits: Limits) -> None:
    """Refuse a document larger than the upload cap."""
    if len(data) > limits.max_bytes:
        msg = f"Document is {len(data)} bytes; expected at most {limits.max_bytes} bytes."
        raise DocumentTooLarge(msg, limit="max_bytes")


def harden_libraries(limits: Limits = DEFAULT_LIMITS) -> None:
    """Set the libraries' own bomb limits and refuse to run without defusedxml.

    Every XML part is parsed through defusedxml's guards (our xlsx reader installs them on
    expat itself). openpyxl decides at import time whether it parses through defusedxml;
    without it a billion-laughs or XXE workbook would reach the plain expat parser, so if
    openpyxl is loaded in this process it must have found defusedxml. (The parsers do not
    import openpyxl themselves: importing it only to ask would cost a quarter of a second on
    every cold start.)
    """
    os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(limits.max_image_pixels))
    import defusedxml  # noqa: F401 - refuse to run at all without it
    from PIL import Image

    openpyxl = sys.modules.get("openpyxl")
    if openpyxl is not None and getattr(openpyxl, "DEFUSEDXML", False) is not True:
        msg = (
            "openpyxl is not using defusedxml (openpyxl.DEFUSEDXML is not True); refusing to parse."
        )
        raise RuntimeError(msg)
    Image.MAX_IMAGE_PIXELS = limits.max_image_pixels
    warnings.simplefilter("error", Image.DecompressionBombWarning)


__all__ = ["DEFAULT_LIMITS", "Limits", "check_size", "harden_libraries", "library_message"]
