"""Region finding, scan-line profiles and acceptance rules, on symbols the project draws."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gateway.barcodes import read, read_file
from gateway.barcodes.accept import acceptable, classify, consistent
from gateway.barcodes.profiles import (
    band_profiles,
    draw,
    normalised,
    paper_referenced,
    rank_kernels,
)
from gateway.barcodes.reader import _IDENTITY, _LINEAR, _View, _zbar_reads, _zx_results
from gateway.barcodes.regions import find_regions
from gateway.barcodes.symbol import Symbol
from samples.labels import LabelCode, barcode_free, degrade, draw_label, glare, symbol_image

GS = "\x1d"
UNIT = LabelCode("0106950123456786" + "10LOT1" + GS + "21SN9", True, "gs1-128")
UNIT_HRI = "(01)06950123456786(10)LOT1(21)SN9"
SSCC = LabelCode("00069501234500000017", True, "gs1-128")


def _page(*symbols: np.ndarray, gap: int = 60) -> np.ndarray:
    width = max(s.shape[1] for s in symbols) + 80
    height = sum(s.shape[0] + gap for s in symbols) + gap
    page = np.full((height, width), 255, np.uint8)
    y = gap
    for symbol in symbols:
        page[y : y + symbol.shape[0], 40 : 40 + symbol.shape[1]] = symbol
        y += symbol.shape[0] + gap
    return page


def _motion_across(image: np.ndarray, length: int) -> np.ndarray:
    kernel = np.full((1, length), 1.0 / length, np.float32)  # horizontal: across upright bars
    return np.asarray(cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REPLICATE), np.uint8)


def test_stacked_linear_symbols_are_separate_regions() -> None:
    page = _page(
        symbol_image(UNIT, UNIT_HRI, 3), symbol_image(SSCC, "(00)069501234500000017", 3), gap=30
    )
    linear = [region for region in find_regions(page) if region.linear]
    assert len(linear) == 2, linear
    centers = sorted(region.center[1] for region in linear)
    assert centers[1] - centers[0] > 100  # one region per symbol, not one around both


def test_glare_split_symbol_is_one_region() -> None:
    symbol = symbol_image(UNIT, UNIT_HRI, 3)
    page = _page(symbol)
    middle = 40 + symbol.shape[1] // 2
    page[:, middle - 40 : middle + 40] = 255  # a washed-out band across the bars
    linear = [region for region in find_regions(page) if region.linear]
    assert len(linear) == 1, linear
    assert linear[0].size[0] > 0.8 * (symbol.shape[1] - 60 * 3)


def test_text_and_hatching_are_not_linear_regions() -> None:
    page = barcode_free(np.random.default_rng(4))
    assert [region for region in find_regions(page) if region.linear] == []


def test_text_lines_are_not_rectangular_matrix_regions() -> None:
    for seed in range(6):
        page = barcode_free(np.random.default_rng(seed))
        matrix = [region for region in find_regions(page) if not region.linear]
        assert all(max(region.size) <= 1.6 * min(region.size) for region in matrix), matrix


def test_blurred_rectangular_datamatrix_beside_text_is_found_and_read() -> None:
    text = "0106957020957705" + "10L938079" + GS + "216VVM8QX2"
    code = LabelCode(text, True, "gs1-datamatrix")  # long: the writer picks a DMRE size
    label = draw_label(
        [(code, "(01)06957020957705(10)L938079(21)6VVM8QX2")], np.random.default_rng(1), 3
    )
    ok, encoded = cv2.imencode(
        ".jpg", cv2.GaussianBlur(label, (0, 0), 1.6), [cv2.IMWRITE_JPEG_QUALITY, 70]
    )
    assert ok
    photo = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)
    assert text in [symbol.text for symbol in read(photo, budget_s=None)]


def test_profile_bank_restores_motion_blur_across_the_bars() -> None:
    symbol = symbol_image(UNIT, UNIT_HRI, 3)
    blurred = _motion_across(symbol, 8)
    rng = np.random.default_rng(1)
    noisy = np.clip(blurred + rng.normal(0, 4, blurred.shape), 0, 255).astype(np.uint8)
    (profile, *_) = band_profiles(noisy, 30.0, float(noisy.shape[0] - 30))
    assert not [r for r in _zx_results(draw(profile), _LINEAR) if r.text == UNIT.text]
    ranking = rank_kernels([profile], 1.0)
    # The blur is found, not guessed: the best-ranked kernel is a box of about its length.
    kind, size, _ = ranking.kernels[0]
    assert kind == "box"
    assert abs(size - 8) <= 1.0
    texts = {
        result.text
        for _, (view,) in ranking.restore(4)
        for result in _zx_results(draw(view), _LINEAR)
    }
    assert UNIT.text in texts
    assert texts <= {UNIT.text}


def test_normalised_profile_flattens_a_bright_spot() -> None:
    bars = np.tile(np.array([40.0] * 4 + [220.0] * 4, np.float32), 60)
    spot = np.exp(-(((np.arange(bars.size) - 240) / 60.0) ** 2))
    lifted = bars + (255 - bars) * spot * 0.8
    flat = normalised(lifted, 1.0)
    inside, outside = flat[220:260], flat[20:60]
    # Dark/light swing under the spot comes back to that of the rest of the profile.
    assert np.ptp(inside) > 0.7 * np.ptp(outside)
    assert np.ptp(lifted[220:260]) < 0.3 * np.ptp(lifted[20:60])


def test_paper_referenced_profile_keeps_the_quiet_zones_of_a_ramp_light() -> None:
    quiet = np.full(120, 255.0, np.float32)
    bars = np.tile(np.array([0.0] * 6 + [255.0] * 6, np.float32), 40)
    line = np.concatenate([quiet, bars, quiet])
    ramped = line * np.linspace(0.45, 1.0, line.size, dtype=np.float32)  # light from one side
    paper = paper_referenced(ramped, 1.0)
    flat = normalised(ramped, 1.0)
    # Both quiet zones drawn light, as light as the spaces; `normalised` draws them mid-grey.
    assert paper[:100].min() > 200
    assert paper[-100:].min() > 200
    assert paper[120:-120].min() < 60
    assert 100 < flat[:100].mean() < 160


@pytest.mark.parametrize("seed", [1, 8])
def test_code_128_under_light_from_one_side_reads_beside_a_qr_code(seed: int) -> None:
    # The paper darkens to 0.45 of its tone across the photo: one threshold per scan line
    # takes the dark end's quiet zone for a bar; measured down from the paper, it reads. And
    # ZBar's read of it is placed on the symbol, not across it and the QR Code below.
    rng = np.random.default_rng(seed)
    plain = "".join(rng.choice(list("0123456789ABCDEFGHJKLMNPRSTVWXY"), 24))
    link = "https://id.example.com/01/06953998121872/21/PHCVAY7W"
    codes = [(LabelCode(plain, False, "code128"), plain), (LabelCode(link, False, "qrcode"), link)]
    photo, _ = degrade(draw_label(codes, rng, 4), "uneven_light", rng)
    ok, encoded = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    symbols = read_file(encoded.tobytes())
    assert sorted(symbol.text for symbol in symbols) == sorted([plain, link])


def test_zbar_read_is_placed_on_the_rows_it_was_read_from() -> None:
    symbol = symbol_image(SSCC, "(00)069501234500000017", 3)
    height, width = symbol.shape
    cut = np.full((3 * height, width + 120), 255, np.uint8)
    cut[20 : 20 + height, 60 : 60 + width] = symbol  # a neighbour in the cut's top margin
    view = _View("crop", cut, _IDENTITY, True)
    on_rows = (60.0, 2.0 * height, 60.0 + width, 3.0 * height - 20)  # the region's bars
    (beside,) = _zbar_reads(view, on_rows)
    assert beside.text == SSCC.text
    assert beside.quad[:, 1].max() < 20 + height + 2  # where it lies, not on the region
    cut[2 * height : 3 * height, 60 : 60 + width] = symbol  # the region's own bars, read
    texts = {
        (read.text, round(float(read.quad[:, 1].min()))) for read in _zbar_reads(view, on_rows)
    }
    assert (SSCC.text, round(2.0 * height)) in texts


def test_reader_reads_strong_motion_blur_across_bars_without_wrong_reads() -> None:
    page = _page(symbol_image(UNIT, UNIT_HRI, 3))
    blurred = _motion_across(page, 8)  # 2.7 modules: the bars melt into grey
    texts = [symbol.text for symbol in read(blurred, budget_s=None)]
    assert texts == [UNIT.text]


def test_reader_reads_through_glare() -> None:
    rng = np.random.default_rng(21)
    label = draw_label([(UNIT, UNIT_HRI), (SSCC, "(00)069501234500000017")], rng, 3)
    texts = sorted(symbol.text for symbol in read(glare(label, rng), budget_s=None))
    assert texts == sorted([UNIT.text, SSCC.text])


def test_reader_reads_through_a_glare_spot_that_almost_whitens_the_bars() -> None:
    page = np.pad(symbol_image(UNIT, UNIT_HRI, 3), 80, constant_values=255)
    height, width = page.shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    spot = np.exp(-((xs - width / 2) ** 2 + (ys - height / 2) ** 2) / (2 * (0.12 * width) ** 2))
    lifted = page + (255 - page.astype(np.float32)) * spot * 0.93
    ok, encoded = cv2.imencode(
        ".jpg", np.clip(lifted, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 60]
    )
    assert ok
    photo = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)
    assert [symbol.text for symbol in read(photo, budget_s=None)] == [UNIT.text]


def test_linear_quad_spans_the_bar_height() -> None:
    symbol = symbol_image(SSCC, "(00)069501234500000017", 3)
    page = _page(symbol)
    (found,) = read(page, budget_s=None)
    ys = [y for _, y in found.quad]
    bar_height = symbol.shape[0] - 2 * 30  # drawn with a 10-module (30 px) quiet zone
    assert max(ys) - min(ys) >= 0.8 * bar_height


def test_gs1_datamatrix_reports_gs1_mode_and_identifier() -> None:
    code = LabelCode(UNIT.text, True, "gs1-datamatrix")
    page = _page(symbol_image(code, UNIT_HRI, 4))
    (found,) = read(page, budget_s=None)
    assert (found.text, found.gs1, found.symbology, found.symbology_id) == (
        UNIT.text,
        True,
        "gs1-datamatrix",
        "]d2",
    )


def test_rectangular_extension_gs1_datamatrix_is_gs1() -> None:
    # Long enough that the writer picks a DMRE size, which zxing-cpp reports as ]d8.
    text = "0106957020957705" + "10L938079" + GS + "216VVM8QX2"
    code = LabelCode(text, True, "gs1-datamatrix")
    page = _page(symbol_image(code, "(01)06957020957705(10)L938079(21)6VVM8QX2", 3))
    (found,) = read(page, budget_s=None)
    assert (found.text, found.gs1, found.symbology, found.symbology_id) == (
        text,
        True,
        "gs1-datamatrix",
        "]d2",
    )


@pytest.mark.parametrize(
    ("sid", "family", "text", "trusted", "views", "ok"),
    [
        # Plain Code 128 from processed views needs a second, agreeing view.
        ("]C0", "code128", "ABCP0123456789ABCDEFGHIJ", False, 1, False),
        ("]C0", "code128", "ABCP0123456789ABCDEFGHIJ", False, 2, True),
        ("]C0", "code128", "ABCP0123456789ABCDEFGHIJ", True, 1, True),
        # GS1 data must pass the code engine; an invalid one only from two unprocessed views.
        ("]C1", "code128", "0106950123456786", False, 2, True),
        ("]C1", "code128", "0106950123456788", False, 3, False),
        ("]C1", "code128", "0106950123456788", True, 1, False),
        ("]C1", "code128", "0106950123456788", True, 2, True),
        # Reed-Solomon protected symbols need no second view unless the engine refuses them.
        ("]d1", "datamatrix", "HVAPERTWJJMEWCL982010000", False, 1, True),
        ("]d2", "datamatrix", "0106950123456786", False, 1, True),
        ("]d2", "datamatrix", "0106950123456788", False, 1, False),
        # Check digits and lengths hold whatever the views.
        ("]E0", "ean13", "6950123897122", True, 3, False),
        ("]I0", "itf", "1695012345678", True, 3, False),
    ],
)
def test_acceptance_rules(
    sid: str, family: str, text: str, trusted: bool, views: int, ok: bool
) -> None:
    kind = classify(sid, family, text)
    assert kind is not None
    assert acceptable(kind, sid, text, trusted=trusted, views=views) is ok


def test_untrusted_read_contradicting_a_trusted_one_on_the_same_item_is_dropped() -> None:
    quad = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    trusted = Symbol("0106950123456786" + "10LOT1", True, "gs1-128", "]C1", quad)
    rival = Symbol("0106950123456786" + "10LOT7", True, "gs1-128", "]C1", quad)
    other_item = Symbol("0106950123456793" + "10LOT7", True, "gs1-128", "]C1", quad)
    kept = consistent([trusted, rival, other_item], [True, False, False])
    assert kept == [trusted, other_item]
    # The same contradiction between two trusted reads is the rules' business, not ours.
    assert consistent([trusted, rival], [True, True]) == [trusted, rival]
