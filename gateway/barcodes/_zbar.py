"""A second decoder for linear symbols: ZBar, through pyzbar's ctypes bindings.

pyzbar's own `decode` drops what the product needs: the GS1 modifier (FNC1 in first position)
and the symbology. This wrapper asks libzbar for both. Only Code 128, EAN-13 and
Interleaved 2 of 5 are enabled: ZBar reads no DataMatrix, and its QR reader adds nothing
over zxing-cpp's.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

_EAN13, _I25, _CODE128 = 13, 25, 128
_FAMILY = {_EAN13: "ean13", _I25: "itf", _CODE128: "code128"}
_CFG_ENABLE = 0
_MOD_GS1 = 0  # bit index of ZBAR_MOD_GS1 in the symbol's modifier mask


@dataclass(frozen=True, slots=True)
class ZbarRead:
    """One symbol as ZBar reported it."""

    text: str
    family: str
    gs1: bool
    points: tuple[tuple[float, float], ...]  # outline points ZBar scanned


class _Lib:
    def __init__(self) -> None:
        from pyzbar import wrapper as zw

        self.zw = zw
        sym = ctypes.POINTER(zw.zbar_symbol)
        self.get_modifiers = zw.zbar_function("zbar_symbol_get_modifiers", ctypes.c_uint, sym)
        self.get_type = zw.zbar_function("zbar_symbol_get_type", ctypes.c_int, sym)


_lib: _Lib | None = None
_unavailable = False
# A configured scanner per thread, kept for the life of the thread: creating and configuring
# one costs about as much as scanning a drawn profile. Scanners are not thread-safe.
_local = threading.local()


def available() -> bool:
    """True when libzbar can be loaded (Debian's libzbar0)."""
    return _load() is not None


def _load() -> _Lib | None:
    global _lib, _unavailable
    if _lib is None and not _unavailable:
        try:
            _lib = _Lib()
        except (ImportError, OSError, AttributeError):
            _unavailable = True
    return _lib


def read(gray: np.ndarray) -> list[ZbarRead]:
    """Linear symbols ZBar finds on an 8-bit grayscale image; [] when ZBar is not installed."""
    lib = _load()
    if lib is None:
        return []
    zw: Any = lib.zw
    gray = np.ascontiguousarray(gray, dtype=np.uint8)
    height, width = gray.shape[:2]
    pixels = ctypes.create_string_buffer(gray.tobytes(), gray.size)
    results: list[ZbarRead] = []
    scanner = getattr(_local, "scanner", None)
    if scanner is None:
        scanner = zw.zbar_image_scanner_create()
        zw.zbar_image_scanner_set_config(scanner, 0, _CFG_ENABLE, 0)  # all symbologies off
        for kind in _FAMILY:
            zw.zbar_image_scanner_set_config(scanner, kind, _CFG_ENABLE, 1)
        _local.scanner = scanner
    image = zw.zbar_image_create()
    try:
        zw.zbar_image_set_format(image, 0x30303859)  # FOURCC "Y800": 8-bit gray
        zw.zbar_image_set_size(image, width, height)
        zw.zbar_image_set_data(image, ctypes.cast(pixels, ctypes.c_void_p), len(pixels), None)
        if zw.zbar_scan_image(scanner, image) < 0:
            return []
        symbol = zw.zbar_image_first_symbol(image)
        while symbol:
            kind = lib.get_type(symbol)
            size = zw.zbar_symbol_get_data_length(symbol)
            data = ctypes.string_at(zw.zbar_symbol_get_data(symbol), size)
            count = zw.zbar_symbol_get_loc_size(symbol)
            points = tuple(
                (
                    float(zw.zbar_symbol_get_loc_x(symbol, index)),
                    float(zw.zbar_symbol_get_loc_y(symbol, index)),
                )
                for index in range(count)
            )
            if kind in _FAMILY:
                gs1 = bool(lib.get_modifiers(symbol) >> _MOD_GS1 & 1)
                text = data.decode("latin-1")
                results.append(ZbarRead(text, _FAMILY[kind], gs1, points))
            symbol = zw.zbar_symbol_next(symbol)
    finally:
        zw.zbar_image_destroy(image)
    return results
