"""Reading through blur that no edge survives: motion estimates and the Code 128 model fit.

Symbols are drawn by the project's own sample generator and blurred here with known kernels,
so each test knows the answer it must find, and that nothing else may be read.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gateway.barcodes import code128fit, read
from gateway.barcodes.deblur import estimate_motion, motion_psf
from gateway.barcodes.profiles import kernel
from samples.labels import LabelCode, draw_label, random_codes, symbol_image

GS = "\x1d"
UNIT = LabelCode("0106950123456786" + "10LOT1" + GS + "21SN9", True, "gs1-128")
UNIT_HRI = "(01)06950123456786(10)LOT1(21)SN9"
GBT = LabelCode("HVAPERTWJJMEWCL982010000", False, "code128")


def _profile(image: np.ndarray) -> np.ndarray:
    middle = image.shape[0] // 2
    return np.asarray(image[middle - 5 : middle + 5].astype(np.float32).mean(axis=0))


def _blurred(profile: np.ndarray, taps: np.ndarray, noise: float, seed: int) -> np.ndarray:
    padded = np.pad(profile, taps.size, mode="edge")
    out = np.convolve(padded, taps, mode="same")[taps.size : -taps.size]
    rng = np.random.default_rng(seed)
    return np.asarray(out + rng.normal(0, noise, out.size), np.float32)


@pytest.mark.parametrize(("code", "source"), [(UNIT, UNIT_HRI), (GBT, GBT.text)])
@pytest.mark.parametrize("modules_of_blur", [2.5, 3.2])
def test_model_fit_reads_code128_blurred_over_several_modules(
    code: LabelCode, source: str, modules_of_blur: float
) -> None:
    module = 3
    taps = kernel("box", modules_of_blur * module, 1.0)
    profile = _blurred(_profile(symbol_image(code, source, module)), taps, 3.0, seed=1)
    found = code128fit.decode(profile, taps)
    assert found is not None
    assert (found.text, found.symbology_id) == (code.text, "]C1" if code.gs1 else "]C0")
    # A second band of the same symbol, decoded with the count the first one found.
    again = code128fit.decode(_blurred(profile, np.ones(1), 3.0, seed=2), taps, found.count)
    assert again is not None
    assert again.text == code.text


def test_model_fit_reads_nothing_from_other_symbologies_or_random_bars() -> None:
    rng = np.random.default_rng(5)
    profiles: list[np.ndarray] = []
    for text in ("6950123456786", "4006381333931"):
        profiles.append(_profile(symbol_image(LabelCode(text, False, "ean13"), text, 3)))
    itf = "16950123456783"
    profiles.append(_profile(symbol_image(LabelCode(itf, False, "itf14"), itf, 3)))
    for _ in range(6):
        widths = rng.integers(1, 5, size=int(rng.integers(60, 160))) * 3
        row = np.concatenate(
            [np.full(int(w), 0 if i % 2 == 0 else 255, np.float32) for i, w in enumerate(widths)]
        )
        profiles.append(np.pad(row, 60, constant_values=255))
    for index, profile in enumerate(profiles):
        for blur in (6.0, 9.0, 12.0):
            taps = kernel("box", blur, 1.0)
            assert code128fit.decode(_blurred(profile, taps, 3.0, index), taps) is None


@pytest.mark.parametrize(("length", "angle"), [(6.0, 0.0), (9.0, 30.0), (8.0, 75.0), (12.0, 120.0)])
def test_motion_estimate_finds_length_and_direction(length: float, angle: float) -> None:
    rng = np.random.default_rng(3)
    label = draw_label(random_codes(rng), rng, 3)
    blurred = cv2.filter2D(label, -1, motion_psf(length, angle))
    noisy = np.clip(blurred + rng.normal(0, 2, blurred.shape), 0, 255).astype(np.uint8)
    found_length, found_angle = estimate_motion(noisy)
    assert abs(found_length - length) <= 1.5
    difference = abs(found_angle - angle) % 180
    assert min(difference, 180 - difference) <= 8


def _page(symbol: np.ndarray) -> np.ndarray:
    page = np.full((symbol.shape[0] + 240, symbol.shape[1] + 240), 255, np.uint8)
    page[120 : 120 + symbol.shape[0], 120 : 120 + symbol.shape[1]] = symbol
    return page


def _photo(image: np.ndarray, psf: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    blurred = cv2.filter2D(image, -1, psf)
    noisy = np.clip(blurred + rng.normal(0, 2, blurred.shape), 0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, 60])
    assert ok
    return np.asarray(cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE), np.uint8)


def test_reader_reads_code128_under_motion_blur_of_four_modules() -> None:
    page = _page(symbol_image(UNIT, UNIT_HRI, 3))
    # 12 px at 15 degrees: 3.9 modules across the bars, past what deconvolution restores.
    photo = _photo(page, motion_psf(12.0, 15.0), np.random.default_rng(1))
    assert [symbol.text for symbol in read(photo, budget_s=None)] == [UNIT.text]


@pytest.mark.parametrize(("length", "angle"), [(8.0, 70.0), (10.0, 20.0)])
def test_reader_reads_datamatrix_under_estimated_motion_blur(length: float, angle: float) -> None:
    code = LabelCode(UNIT.text, True, "gs1-datamatrix")
    rng = np.random.default_rng(4)
    label = draw_label([(code, UNIT_HRI)], rng, 3)
    photo = _photo(label, motion_psf(length, angle), rng)
    assert code.text in [symbol.text for symbol in read(photo, budget_s=None)]
