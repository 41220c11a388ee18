"""Barcodes on label photos, scans and rendered PDF pages.

`read(image)` finds every GS1-128, GS1 DataMatrix, GS1 QR (Digital Link included), GS1
DataBar (all five forms), plain QR / DataMatrix / Code 128, EAN-13 and ITF-14 symbol on an
image and returns one `Symbol` per physical symbol. A wrong read is worse than no read, so
every result passes the checks in `gateway.barcodes.accept` before it is returned.
`read_labels(image)` also returns the conflicting reads and the regions left unread, and
`retake_hint` turns them into advice for the next photo.
"""

from __future__ import annotations

import os

from gateway.barcodes.limits import MAX_IMAGE_PIXELS

# OpenCV reads this variable once, when cv2 is first imported: set it before any import of cv2.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_IMAGE_PIXELS))

from gateway.barcodes.annotate import annotate
from gateway.barcodes.hints import retake_hint, retake_message
from gateway.barcodes.images import load_image, read_file, read_photo
from gateway.barcodes.reader import read, read_labels
from gateway.barcodes.symbol import Conflict, LabelRead, Symbol, UnreadRegion

__all__ = [
    "MAX_IMAGE_PIXELS",
    "Conflict",
    "LabelRead",
    "Symbol",
    "UnreadRegion",
    "annotate",
    "load_image",
    "read",
    "read_file",
    "read_labels",
    "read_photo",
    "retake_hint",
    "retake_message",
]
