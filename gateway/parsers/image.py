"""Images (label photos, a scanned page saved as PNG/JPEG/TIFF) -> `Extraction`.

The pixel count is read from the header before any decoding: a 60,000 x 60,000 PNG is
refused by its header, not discovered by running out of memory. Only PNG, JPEG and TIFF
decoders are allowed (Pillow has many more, with their own histories of bugs).
"""

from __future__ import annotations

import io
from typing import Any

from gateway.domain import Document, Extraction
from gateway.errors import CorruptDocument, DocumentTooLarge
from gateway.parsers.limits import Limits, library_message

MAX_FRAMES = 10


def open_image(data: bytes, limits: Limits) -> Any:
    """Decode an image as RGB numpy array after checking its size from the header."""
    import numpy as np
    from PIL import Image

    try:
        img = Image.open(io.BytesIO(data), formats=["PNG", "JPEG", "TIFF"])
    except Image.DecompressionBombError as exc:
        msg = f"Image is too large to decode: {library_message(exc)}."
        raise DocumentTooLarge(msg, limit="max_image_pixels") from exc
    except Exception as exc:  # Pillow raises UnidentifiedImageError, SyntaxError, ...
        msg = f"Failed to read the image header: {library_message(exc)}."
        raise CorruptDocument(msg) from exc
    width, height = img.size
    if width * height > limits.max_image_pixels:
        msg = (
            f"Image is {width} x {height} = {width * height} pixels; expected at most "
            f"{limits.max_image_pixels}."
        )
        raise DocumentTooLarge(msg, limit="max_image_pixels")
    if getattr(img, "n_frames", 1) > MAX_FRAMES:
        msg = f"Image has more than {MAX_FRAMES} frames; expected a single page."
        raise DocumentTooLarge(msg, limit="image_max_frames")
    try:
        return np.asarray(img.convert("RGB"))
    except Exception as exc:  # truncated or corrupt pixel data
        msg = f"Failed to decode the image: {library_message(exc)}."
        raise CorruptDocument(msg) from exc


class _ImagePage:
    """Adapter so an image goes through the same OCR path as a rendered PDF page."""

    def __init__(self, array: Any) -> None:
        self.array = array

    def get_size(self) -> tuple[float, float]:
        height, width = self.array.shape[:2]
        return float(width) * 72.0 / 200.0, float(height) * 72.0 / 200.0


def read_image(data: bytes, document: Document, limits: Limits) -> Extraction:
    """Barcodes and printed text of one image; a printed table becomes manifest lines."""
    from gateway.parsers.pdf import _read_text_pages
    from gateway.parsers.scan import ocr_array

    array = open_image(data, limits)
    page = ocr_array(array, 1, scale=200.0 / 72.0)
    return _read_text_pages([page], document, 1, method="image", scanned={1})
