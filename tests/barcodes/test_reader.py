"""The reader on labels the project draws itself: every kind of symbol, degraded, no wrong reads."""

from __future__ import annotations

import io
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from gateway.barcodes import Symbol, annotate, read, read_file
from gateway.barcodes.accept import classify, structurally_ok
from gateway.errors import CorruptDocument, DocumentTooLarge, UnsupportedDocument
from gateway.gs1.checksums import has_valid_check_digit
from samples.labels import (
    DEGRADATIONS,
    LabelCode,
    barcode_free,
    degrade,
    draw_label,
    label_set,
    random_codes,
)

GS = "\x1d"


@pytest.fixture(scope="module")
def generated() -> list[dict[str, object]]:
    return label_set(33, seed=11)


def _texts(symbols: list[Symbol]) -> list[str]:
    return [symbol.text for symbol in symbols]


def test_clean_label_reads_every_symbology_with_gs1_mode_and_separators() -> None:
    rng = np.random.default_rng(5)
    codes = [code for _ in range(6) for code in random_codes(rng)]
    by_symbology = {code.symbology: (code, source) for code, source in codes}
    label = draw_label(list(by_symbology.values()), rng, module_px=4)
    found = {symbol.text: symbol for symbol in read(label)}
    for code, _ in by_symbology.values():
        assert code.text in found, code
        symbol = found[code.text]
        assert symbol.gs1 == code.gs1
        if code.gs1:
            assert not symbol.text.startswith(GS)
            assert symbol.symbology.startswith("gs1-")


def test_gs1_128_keeps_group_separator_between_variable_fields() -> None:
    code = LabelCode("0106950123456789" + "10LOT1" + GS + "21SN9", True, "gs1-128")
    label = draw_label([(code, "(01)06950123456789(10)LOT1(21)SN9")], np.random.default_rng(1))
    (symbol,) = [s for s in read(label) if s.symbology == "gs1-128"]
    assert symbol.text == code.text
    assert symbol.symbology_id == "]C1"
    assert symbol.raw == "]C1" + code.text


def test_generated_set_has_no_wrong_reads_and_high_recall(
    generated: list[dict[str, object]],
) -> None:
    wrong: list[tuple[object, str]] = []
    found = required = 0
    for item in generated:
        image = item["image"]
        codes = item["codes"]
        assert isinstance(image, np.ndarray)
        assert isinstance(codes, list)
        expected = {code.text for code in codes}
        texts = _texts(read(image, budget_s=None))
        wrong += [(item["degradation"], text) for text in texts if text not in expected]
        required += len(codes)
        found += len(expected & set(texts))
    assert wrong == []
    assert found / required >= 0.9, (found, required)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_barcode_free_pages_give_nothing(seed: int) -> None:
    rng = np.random.default_rng(seed)
    image, _ = degrade(barcode_free(rng), "noise", rng)
    assert read(image) == []


@pytest.mark.parametrize("kind", DEGRADATIONS)
def test_each_degradation_gives_no_wrong_read(kind: str) -> None:
    rng = np.random.default_rng(len(kind))
    codes = random_codes(rng)
    image, _ = degrade(draw_label(codes, rng, 3), kind, rng)
    expected = {code.text for code, _ in codes}
    assert set(_texts(read(image))) <= expected


def test_quad_is_in_original_image_pixels() -> None:
    rng = np.random.default_rng(9)
    code = LabelCode("00" + "069501234500000017", True, "gs1-128")
    label = draw_label([(code, "(00)069501234500000017")], rng, 3)
    (symbol,) = read(label)
    xs = [x for x, _ in symbol.quad]
    ys = [y for _, y in symbol.quad]
    assert len(symbol.quad) == 4
    assert 0 <= min(xs) < max(xs) <= label.shape[1]
    assert 180 <= min(ys) <= max(ys) <= label.shape[0]


def test_label_turned_a_quarter_reads_its_linear_and_rectangular_symbols_in_place() -> None:
    # The whole-image read has no rotated pass: the bars along the rows make the photo be
    # read turned, and the quads come back in the photo's own pixels.
    rng = np.random.default_rng(62)
    hri = "(01)06953197027746(10)L525690(21)SAU6WMMZ"
    element = "010695319702774610L525690" + GS + "21SAU6WMMZ"
    codes = [
        (LabelCode(element, True, "gs1-datamatrix"), hri),
        (LabelCode("00069501234500000017", True, "gs1-128"), "(00)069501234500000017"),
    ]
    label = draw_label(codes, rng, 3)
    upright = {symbol.text: symbol.quad for symbol in read(label, budget_s=None)}
    assert sorted(upright) == sorted(code.text for code, _ in codes)
    turned = np.ascontiguousarray(np.rot90(label))  # a quarter anticlockwise
    ok, encoded = cv2.imencode(".png", turned)
    assert ok
    found = {symbol.text: symbol.quad for symbol in read_file(encoded.tobytes())}
    assert sorted(found) == sorted(upright)
    width = label.shape[1]
    for text, quad in found.items():
        # Upright (x, y) lies at (y, width - 1 - x) in the turned photo.
        expected = np.array([(y, width - 1 - x) for x, y in upright[text]])
        assert np.abs(np.array(quad).mean(axis=0) - expected.mean(axis=0)).max() < 6, text


def test_bgr_input_reads_like_grayscale() -> None:
    rng = np.random.default_rng(4)
    label = draw_label(random_codes(rng), rng, 3)
    bgr = cv2.cvtColor(label, cv2.COLOR_GRAY2BGR)
    assert _texts(read(bgr)) == _texts(read(label))


@pytest.mark.parametrize(
    ("sid", "family", "text", "ok"),
    [
        ("]E0", "ean13", "6950123897121", True),
        ("]E0", "ean13", "6950123897122", False),
        ("]I0", "itf", "16901234567899", has_valid_check_digit("16901234567899")),
        ("]I0", "itf", "123456", False),
        ("]C0", "code128", "ABC\x07", False),
        ("]C0", "code128", "=HYPERLINK(1)", True),
        ("]C1", "code128", "\x1d0106950123456789", False),
    ],
)
def test_structural_checks(sid: str, family: str, text: str, ok: bool) -> None:
    kind = classify(sid, family, text)
    assert kind is not None
    assert structurally_ok(kind, text) is ok


def test_read_file_rejects_non_images_and_oversized_headers() -> None:
    with pytest.raises(UnsupportedDocument, match="expected PNG, JPEG or TIFF"):
        read_file(b"%PDF-1.7 not an image")
    with pytest.raises(CorruptDocument):
        read_file(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    # A valid PNG header claiming 20000 x 20000 pixels with no pixel data behind it.
    buffer = io.BytesIO()
    Image.new("L", (8, 8), 255).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = (20000).to_bytes(4, "big") + (20000).to_bytes(4, "big")
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")  # keep the IHDR valid
    with pytest.raises(DocumentTooLarge, match=r"20000|400000000"):
        read_file(bytes(data))


def test_read_file_reads_png_and_multi_frame_tiff() -> None:
    rng = np.random.default_rng(2)
    codes = random_codes(rng)
    label = draw_label(codes, rng, 3)
    png = io.BytesIO()
    Image.fromarray(label).save(png, format="PNG")
    expected = {code.text for code, _ in codes}
    assert set(_texts(read_file(png.getvalue()))) == expected
    tiff = io.BytesIO()
    blank = Image.new("L", (200, 200), 255)
    Image.fromarray(label).save(tiff, format="TIFF", save_all=True, append_images=[blank])
    assert set(_texts(read_file(tiff.getvalue()))) == expected


def test_annotate_returns_png_with_boxes() -> None:
    rng = np.random.default_rng(3)
    label = draw_label(random_codes(rng), rng, 3)
    symbols = read(label)
    data = annotate(label, symbols, {0: "red"})
    assert data.startswith(b"\x89PNG")
    drawn = np.asarray(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR))
    assert drawn.shape[:2] == label.shape[:2]
    # Coloured pixels appear only where boxes and labels were drawn.
    colour = np.abs(drawn[:, :, 2].astype(int) - drawn[:, :, 0].astype(int)) > 60
    assert colour.any()


def test_degenerate_images_give_nothing() -> None:
    assert read(np.zeros((0, 0), np.uint8)) == []
    assert read(np.full((4, 4), 255, np.uint8)) == []
    assert read(np.full((300, 300), 255, np.uint8)) == []
