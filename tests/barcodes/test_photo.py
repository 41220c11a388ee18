"""Large photos from JPEG bytes: read at the smallest decode size that reads them completely."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gateway.barcodes import profiles, read_labels, read_photo
from gateway.barcodes.regions import find_regions, looks_textured
from samples.labels import LabelCode, symbol_image, textured_background

SSCC = LabelCode("00069501234500000017", True, "gs1-128")
SSCC_HRI = "(00)069501234500000017"


def _photo_12mp(symbol: np.ndarray, at: tuple[int, int] = (1500, 1100)) -> bytes:
    photo = np.full((3000, 4000), 200, np.uint8)  # a grey desk
    x, y = at
    photo[y : y + symbol.shape[0], x : x + symbol.shape[1]] = symbol
    ok, jpeg = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return jpeg.tobytes()


def test_a_large_symbol_on_a_12mp_photo_is_read_at_a_quarter_of_its_sides() -> None:
    symbol = symbol_image(SSCC, SSCC_HRI, 12)  # 12 px modules: 3 px at a quarter
    frame, result, scale = read_photo(_photo_12mp(symbol), budget_s=None)
    assert [s.text for s in result.symbols] == [SSCC.text]
    assert frame.shape == (750, 1000)
    assert scale == 4.0
    # quads in the frame's pixels: times the scale, the symbol's place in the photo
    xs = [x * scale for x, _ in result.symbols[0].quad]
    assert min(xs) >= 1500
    assert max(xs) <= 1500 + symbol.shape[1]


def test_a_small_symbol_on_a_12mp_photo_is_read_at_a_larger_size() -> None:
    symbol = symbol_image(SSCC, SSCC_HRI, 3)  # 3 px modules: under one pixel at a quarter
    frame, result, scale = read_photo(_photo_12mp(symbol), budget_s=None)
    assert [s.text for s in result.symbols] == [SSCC.text]
    assert scale in (1.0, 2.0)
    assert frame.shape[1] * scale == 4000


def test_bars_with_quiet_zones_are_a_region_and_patches_of_grain_are_not() -> None:
    # Wood grain gives patches of straight bars of varied widths, as a symbol does (several
    # pass every test of bars on these surfaces); only the symbol has a quiet zone at both
    # ends, where the grain goes on. (These two surfaces give 8 and 11 such patches without
    # the quiet-zone test and none with it; other grain still leaves one or two of ten.)
    for seed in (0, 3):
        wood = textured_background(np.random.default_rng(seed), "wood")
        assert [r for r in find_regions(wood) if r.linear] == []
    page = np.full((400, 900), 255, np.uint8)
    symbol = symbol_image(SSCC, SSCC_HRI, 3)
    page[100 : 100 + symbol.shape[0], 40 : 40 + symbol.shape[1]] = symbol
    assert [r.linear for r in find_regions(page)] == [True]


def _jpeg_gray(image: np.ndarray) -> np.ndarray:
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return cv2.imdecode(np.frombuffer(jpeg.tobytes(), np.uint8), cv2.IMREAD_GRAYSCALE)


def test_patches_of_grain_that_pass_the_region_tests_get_no_deblurring(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # This surface leaves two patches of grain that pass every region test, quiet zones
    # included; they have few bars for a symbol and the grain bends from row to row, so
    # they are read with the cheap views only, not deconvolved and fitted.
    wood = _jpeg_gray(textured_background(np.random.default_rng(12), "wood"))
    patches = [r for r in find_regions(wood) if r.linear]
    assert patches
    assert all(looks_textured(wood, r) for r in patches)
    deconvolved: list[int] = []
    ranking = profiles.rank_kernels
    monkeypatch.setattr(
        profiles, "rank_kernels", lambda *a, **k: deconvolved.append(1) or ranking(*a, **k)
    )
    assert read_labels(wood, budget_s=None).symbols == []
    assert deconvolved == []


def test_a_symbol_on_grain_is_still_read_and_not_texture() -> None:
    wood = textured_background(np.random.default_rng(12), "wood")
    symbol = symbol_image(SSCC, SSCC_HRI, 3)
    wood[300 : 300 + symbol.shape[0], 200 : 200 + symbol.shape[1]] = symbol
    photo = _jpeg_gray(wood)
    assert [s.text for s in read_labels(photo, budget_s=None).symbols] == [SSCC.text]
    inside = [
        r
        for r in find_regions(photo)
        if r.linear
        and 200 < r.center[0] < 200 + symbol.shape[1]
        and 300 < r.center[1] < 300 + symbol.shape[0]
    ]
    assert inside
    assert not any(looks_textured(photo, r) for r in inside)
