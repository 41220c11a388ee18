"""Image bytes to pixels, with the defences of an upload endpoint.

The type is sniffed from the magic bytes (PNG, JPEG, TIFF only) and the dimensions are read
from the header before a single pixel is decoded, so a small file that claims gigapixels is
refused without allocating them.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

from gateway.barcodes.limits import MAX_IMAGE_PIXELS, MAX_TIFF_FRAMES
from gateway.barcodes.symbol import LabelRead, Symbol
from gateway.errors import (
    CorruptDocument,
    DocumentTooLarge,
    ResourceLimitExceeded,
    UnsupportedDocument,
    library_message,
)

# Pillow only warns between MAX_IMAGE_PIXELS and twice that; `_open` turns the warning into an
# error, so this is a hard budget for every Pillow user in the process, not only for us.
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)


def sniff(data: bytes) -> str | None:
    """The image type named by the magic bytes: "PNG", "JPEG", "TIFF" or None."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    return None


def load_image(data: bytes) -> list[np.ndarray]:
    """Decode PNG/JPEG/TIFF bytes to 8-bit grayscale frames (one per TIFF page, capped).

    Raises:
        UnsupportedDocument: the bytes are not PNG, JPEG or TIFF.
        DocumentTooLarge: a frame has more pixels than MAX_IMAGE_PIXELS.
        CorruptDocument: the header or the pixel data cannot be decoded.
    """
    kind = sniff(data)
    if kind is None:
        msg = f"Failed to read the image: expected PNG, JPEG or TIFF, got bytes {data[:8]!r}."
        raise UnsupportedDocument(msg)
    frames: list[np.ndarray] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[kind]) as image:
                for index, frame in enumerate(ImageSequence.Iterator(image)):
                    if index >= MAX_TIFF_FRAMES:
                        break
                    _check_size(kind, frame.size)
                    frames.append(_to_gray(frame))
        except (DocumentTooLarge, UnsupportedDocument):
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            msg = f"Failed to read the {kind} image: {library_message(exc)}."
            raise DocumentTooLarge(msg) from exc
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, MemoryError) as exc:
            msg = f"Failed to read the {kind} image: {library_message(exc)}."
            raise CorruptDocument(msg) from exc
    if not frames:
        msg = f"Failed to read the {kind} image: no frames."
        raise CorruptDocument(msg)
    return frames


def _check_size(kind: str, size: tuple[int, int]) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        msg = (
            f"Failed to read the {kind} image: expected positive dimensions, got {width}x{height}."
        )
        raise CorruptDocument(msg)
    if width * height > MAX_IMAGE_PIXELS:
        msg = (
            f"Image of {width}x{height} pixels is too large: expected at most "
            f"{MAX_IMAGE_PIXELS:,} pixels, got {width * height:,}."
        )
        raise DocumentTooLarge(msg)


def _to_gray(frame: Image.Image) -> np.ndarray:
    # Size checked first: `convert` is where the pixels are decoded and allocated.
    if frame.mode in ("I;16", "I;16B", "I;16L", "I"):
        frame = frame.point(lambda value: value / 256).convert("L")  # 16-bit scans
    elif frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info):
        # A transparent background is white paper, not black.
        rgba = frame.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        frame = Image.alpha_composite(white, rgba)
    gray = np.asarray(frame.convert("L"), dtype=np.uint8)
    return np.ascontiguousarray(gray)


# Above this many pixels a JPEG is first decoded at half size: decoding and reading a 12 MP
# phone photo at full size costs ~4 times more, and a label's codes are almost always
# legible at 3 MP. When nothing is found there, the photo is read again at full size.
FAST_PATH_PIXELS = 4_000_000
# Above this many pixels (a 12 MP phone photo) a JPEG is first decoded at a quarter of its
# sides, where a label filling part of the photo still has modules of several pixels and the
# read costs about a third of the half-size one. That read is taken only when it is complete:
# codes, no conflict, and no barcode-like area left unread; else the half-size read follows.
QUARTER_PATH_PIXELS = 8_000_000


def read_photo(
    data: bytes, *, budget_s: float | None = None, frames: list[np.ndarray] | None = None
) -> tuple[np.ndarray, LabelRead, float]:
    """(frame read, what was read, scale from frame pixels to photo pixels) of one photo.

    Quads are in the frame's pixels; multiply by the scale for the photo's. Every frame of a
    multi-frame TIFF is read (quads per frame); the first frame is returned. `budget_s`
    bounds the reading time of each frame (None: no limit, for documents). `frames`: the
    image's frames as `load_image` decodes them, where the caller has already done so.

    Raises:
        UnsupportedDocument, DocumentTooLarge, CorruptDocument, ResourceLimitExceeded: as
            `load_image` and `read_file`.
    """
    import cv2

    from gateway.barcodes.reader import read_labels

    try:
        if data.startswith(b"\xff\xd8\xff"):
            with Image.open(io.BytesIO(data), formats=["JPEG"]) as probe:
                width, height = probe.size
            # libjpeg scales while decoding (DCT scaling): a quarter or a sixteenth of the
            # pixels, at a fraction of the full decode's time
            buffer = np.frombuffer(data, np.uint8)
            if width * height > QUARTER_PATH_PIXELS:
                small = cv2.imdecode(buffer, cv2.IMREAD_REDUCED_GRAYSCALE_4)
                if small is not None:
                    result = read_labels(small, budget_s=budget_s)
                    if result.symbols and not result.conflicts and not result.unread:
                        return small, result, width / small.shape[1]
            if width * height > FAST_PATH_PIXELS:
                small = cv2.imdecode(buffer, cv2.IMREAD_REDUCED_GRAYSCALE_2)
                if small is not None:
                    result = read_labels(small, budget_s=budget_s)
                    if result.symbols and not result.conflicts:
                        return small, result, width / small.shape[1]
        if frames is None:
            frames = load_image(data)
        reads = [read_labels(frame, budget_s=budget_s) for frame in frames]
    except MemoryError as exc:
        msg = "Reading the image ran out of memory; send a smaller photo (at most 12 MP)."
        raise ResourceLimitExceeded(msg) from exc
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        msg = f"Failed to read the image: {library_message(exc)}."
        raise CorruptDocument(msg) from exc
    merged = LabelRead(
        symbols=[s for r in reads for s in r.symbols],
        conflicts=[c for r in reads for c in r.conflicts],
        unread=[u for r in reads for u in r.unread],
        elapsed_ms=sum(r.elapsed_ms for r in reads),
        out_of_time=any(r.out_of_time for r in reads),
    )
    return frames[0], merged, 1.0


def read_file(data: bytes) -> list[Symbol]:
    """Read every symbol on a PNG/JPEG/TIFF image given as bytes.

    Symbols of all frames of a multi-frame TIFF are returned together (quads per frame).

    Raises:
        UnsupportedDocument, DocumentTooLarge, CorruptDocument: see `load_image`.
    """
    from gateway.barcodes.reader import read

    symbols: list[Symbol] = []
    try:
        for frame in load_image(data):
            symbols.extend(read(frame))
    except MemoryError as exc:
        # a process under a memory cap: the image is refused, the caller goes on
        msg = "Reading the image ran out of memory; send a smaller photo (at most 12 MP)."
        raise ResourceLimitExceeded(msg) from exc
    return symbols
