"""Measure a PDF's compressed streams before any PDF library inflates them.

pdfminer inflates FlateDecode streams with an unbounded `zlib.decompress`, and PDFium aborts
the whole process when a stream inflates past its memory. A 10 KB file with two stacked
FlateDecode filters can ask for gigabytes. So before a PDF reaches either library, every
FlateDecode stream is inflated here, chunk by chunk and layer by layer without keeping the
output, and the document is refused as soon as one stream or all streams together pass their
limit. Streams that are not valid zlib data are left for the PDF library to judge.

`open_pdf` is the one way the gateway opens a PDF (document extraction and `gateway decode`):
the streams measured, then PDFium, then the page count held to `Limits.max_pages`.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from typing import Any

from gateway.errors import CorruptDocument, DocumentTooLarge
from gateway.parsers.limits import Limits, library_message

_CHUNK = 64 * 1024
# "stream" keyword after a dictionary, then the data up to "endstream"
_STREAM = re.compile(rb"stream(?:\r\n|\n|\r)")
_ENDSTREAM = b"endstream"
_FLATE = re.compile(rb"/(?:FlateDecode|Fl)(?![A-Za-z])")
# How far back from "stream" the stream's dictionary may start.
_DICT_WINDOW = 4096


class _TooLarge(Exception):
    """An inflated size passed its cap."""


def _inflate(chunks: Iterator[bytes], cap: int, counter: list[int]) -> Iterator[bytes]:
    """Inflate zlib data chunk by chunk; raise `_TooLarge` past `cap` bytes of output."""
    inflater = zlib.decompressobj()
    produced = 0
    for chunk in chunks:
        data = chunk
        while data:
            out = inflater.decompress(data, _CHUNK)
            data = inflater.unconsumed_tail
            produced += len(out)
            counter[0] += len(out)
            if produced > cap or counter[1] < counter[0]:
                raise _TooLarge
            if out:
                yield out
            if inflater.eof:
                return


def _layers(header: bytes) -> int:
    """How many FlateDecode filters the stream dictionary names."""
    start = header.rfind(b"obj")
    return len(_FLATE.findall(header[start:] if start >= 0 else header))


def check_pdf_streams(data: bytes, *, max_stream: int, max_total: int) -> None:
    """Refuse a PDF whose FlateDecode streams inflate past `max_stream` each or `max_total`.

    Raises:
        DocumentTooLarge: naming the stream's offset and the limit it passed.
    """
    counter = [0, max_total]  # bytes inflated so far (last layer and intermediate), budget
    pos = 0
    while True:
        match = _STREAM.search(data, pos)
        if match is None:
            return
        begin = match.end()
        end = data.find(_ENDSTREAM, begin)
        if end < 0:
            end = len(data)
        pos = end + len(_ENDSTREAM)
        layers = _layers(data[max(0, match.start() - _DICT_WINDOW) : match.start()])
        if layers == 0:
            continue
        chunks: Iterator[bytes] = iter((data[begin:end],))
        for _ in range(layers):
            chunks = _inflate(chunks, max_stream, counter)
        try:
            for _ in chunks:
                pass
        except _TooLarge:
            msg = (
                f"PDF stream at byte {match.start()} inflates past the limit "
                f"({max_stream // (1024 * 1024)} MiB per stream, "
                f"{max_total // (1024 * 1024)} MiB per document): a compression bomb or a "
                "document too large to read."
            )
            raise DocumentTooLarge(msg, limit="pdf_max_stream_inflated") from None
        except zlib.error:
            continue  # not zlib data after all; the PDF library decides what it is


def open_pdf(data: bytes, limits: Limits) -> Any:
    """The PDF as a `pypdfium2.PdfDocument` (the caller closes it), within `limits`.

    Raises:
        DocumentTooLarge: a stream inflates past its limit, or too many pages.
        CorruptDocument: PDFium cannot open the file.
    """
    import pypdfium2 as pdfium

    check_pdf_streams(
        data, max_stream=limits.pdf_max_stream_inflated, max_total=limits.pdf_max_total_inflated
    )
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        msg = f"Failed to open the PDF: {library_message(exc)}."
        raise CorruptDocument(msg) from exc
    count = len(pdf)
    if count > limits.max_pages:
        pdf.close()
        msg = f"PDF has {count} pages; expected at most {limits.max_pages}."
        raise DocumentTooLarge(msg, limit="max_pages")
    return pdf
