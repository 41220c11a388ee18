"""Scanned pages: the OCR road (detection in bands, bounded recognizer batches, orientation)."""

from __future__ import annotations

import functools
import io
import json
from typing import Any

import numpy as np
import pytest

from gateway.parsers import extract, scan
from gateway.parsers.cli import to_records
from samples.manifests import Expected, build_pdf


def _key(code: str | dict[str, str]) -> str:
    return code if isinstance(code, str) else json.dumps(code, sort_keys=True)


def _scanned(seed: int) -> tuple[bytes, Expected]:
    return build_pdf(seed=seed, rotated_page=False, scanned_page=True)


def _scan_png(pdf: bytes) -> bytes:
    """The scanned (last) page of `pdf` as a grey PNG at 200 dpi: a scanner's image file."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    out = io.BytesIO()
    doc[len(doc) - 1].render(scale=200 / 72).to_pil().convert("L").save(out, format="PNG")
    doc.close()
    return out.getvalue()


def _assert_scanned_lines(records: list[dict[str, Any]], exp: Expected) -> None:
    scanned = [r for r in exp.records if r.get("source") == "scan"]
    by_code = {_key(r["code"]): r for r in records}
    assert sorted(by_code) == sorted(_key(r["code"]) for r in scanned)
    for rec in scanned:
        read = by_code[_key(rec["code"])]
        for name in ("line", "lot", "qty", "destination", "hs_code", "un_number"):
            assert read[name] == rec[name], (rec["code"], name)


# ----------------------------------------------------------------------------- whole road


@pytest.mark.slow
def test_an_upright_scan_without_barcodes_is_read_with_every_code_and_field():
    data, exp = _scanned(seed=31)
    out = to_records(extract(data, filename="scan.pdf"))
    _assert_scanned_lines([r for r in out["records"] if r["where"].startswith("page 3")], exp)


@pytest.mark.slow
def test_a_scanned_packing_list_image_without_barcodes_takes_the_same_road():
    data, exp = _scanned(seed=32)
    out = to_records(extract(_scan_png(data), filename="scan.png"))
    _assert_scanned_lines(out["records"], exp)


@pytest.mark.slow
def test_detection_in_bands_finds_the_boxes_of_one_pass_over_the_whole_page(monkeypatch):
    import pypdfium2 as pdfium

    from gateway.parsers.limits import Limits

    data, _ = _scanned(seed=33)
    doc = pdfium.PdfDocument(data)
    image, _scale = scan.render_page(doc[2], Limits())
    image = scan._load(image)
    banded = scan._detect(image)
    monkeypatch.setattr(scan, "DETECT_BAND", 1 << 20)
    whole = scan._detect(image)
    assert len(whole) > 40  # a table of six lines and its header
    ours = np.array([b.reshape(-1) for b in banded])
    ref = np.array([b.reshape(-1) for b in whole])
    gap = np.abs(ref[:, None, :] - ours[None, :, :]).max(axis=2)  # pixels, corner by corner
    assert len(banded) == len(whole)
    assert (gap.min(axis=1) <= 6).all()  # every box of the whole page is found in a band
    assert (gap.min(axis=0) <= 6).all()  # and no band invents one


# ----------------------------------------------------------------------------- the parts


class _Engine:
    """Stands in for the OCR models: a detector that boxes dark rows, a recording recognizer."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []  # (rows, cols) of each detector call
        self.batches: list[list[int]] = []  # widths of the crops of each recognizer call

    def detect(self, band: Any) -> list[Any]:
        self.calls.append(band.shape[:2])
        dark = (band.min(axis=2) < 128).any(axis=1).astype(np.int8)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], dark, [0]])))
        return [  # one box per run of dark rows
            np.array([[10, top], [200, top], [200, bottom], [10, bottom]], np.float32)
            for top, bottom in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True)
        ]

    def recognise(self, crops: list[Any], min_width: float) -> list[tuple[str, float]]:
        self.batches.append([img.shape[1] for img in crops])
        return [(f"w{img.shape[1]}", 0.9) for img in crops]

    def upside_down(self, crops: list[Any]) -> list[float]:
        return [0.0] * len(crops)  # every way alike: the recognizer's vote decides


def test_a_line_where_two_bands_overlap_is_detected_once_in_page_pixels(monkeypatch):
    engine = _Engine()
    monkeypatch.setattr(scan, "models", lambda: engine)
    monkeypatch.setattr(scan, "DETECT_SIDE", 800)
    page = np.full((1600, 1200, 3), 255, np.uint8)  # the detector sees it at 800 x 600
    # a line at rows 300-340 of the detector's image: inside bands 0 (0-448) and 1 (288-736)
    page[600:680, 500:700] = 0
    # and one at rows 500-520, in band 1 only (its core: 368-656)
    page[1000:1040, 500:700] = 0
    boxes = scan._detect(page)
    # 800 rows: bands at 0, 288 and 576, each a multiple of 32 rows, none rescaled; nothing
    # is printed in the third band's core, which is not detected. Of the others, the printed
    # columns (253-354 of 608) and 128 more each side, from column 96 to 512 (multiples of 32)
    assert engine.calls == [(448, 416), (448, 416)]
    assert len(boxes) == 2
    (x0, y0), (_, _), (_, y1), _ = boxes[0].tolist()
    assert abs(y0 - 600) <= 2  # back in the page's own pixels
    assert abs(y1 - 680) <= 2
    assert abs(x0 - (96 + 10) * 1200 / 608) < 1e-3
    assert abs(boxes[1][0, 1] - 1000) <= 2


def test_a_band_with_nothing_printed_round_its_core_is_not_detected(monkeypatch):
    engine = _Engine()
    monkeypatch.setattr(scan, "models", lambda: engine)
    monkeypatch.setattr(scan, "DETECT_SIDE", 800)
    page = np.full((1600, 1200, 3), 236, np.uint8)  # grey paper, with a little noise
    page[::3, ::5] = 250
    page[100:140, 0:1200] = 30  # a line in band 0 only, across the page
    page[100:140, 600] = 236
    boxes = scan._detect(page)
    assert engine.calls == [(448, 608)]
    assert len(boxes) == 1
    # the same page with a faint mark at the foot: the last band is detected again, in the
    # mark's columns (304-324 of 608) and 128 more each side: from 160 to 480
    page[1560:1570, 600:640] = 190
    engine.calls.clear()
    scan._detect(page)
    assert engine.calls == [(448, 608), (224, 320)]


def test_recognizer_batches_stay_within_their_width_and_answers_keep_the_crops_order(
    monkeypatch,
):
    engine = _Engine()
    monkeypatch.setattr(scan, "models", lambda: engine)
    widths = [40, 2400, 90, 300, 48, 1200, 60, 700, 3000, 150, 90, 90, 90]
    crops = [np.zeros((48, w, 3), np.uint8) for w in widths]
    out = scan._read(crops)
    assert [txt for txt, _ in out] == [f"w{w}" for w in widths]
    assert sorted(w for batch in engine.batches for w in batch) == sorted(widths)
    for batch in engine.batches:
        padded = max(scan.REC_MIN_WIDTH, float(max(batch)))
        assert len(batch) == 1 or len(batch) * padded <= scan.REC_BATCH_WIDTH, batch
        assert len(batch) <= scan.REC_BATCH_COUNT
    assert len(engine.batches) < len(widths)  # short crops still share a call


def test_a_page_stands_on_its_side_when_its_long_boxes_stand_on_end():
    def box(w: float, h: float) -> Any:
        return np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)

    upright = [box(200, 20), box(120, 20), box(20, 20), box(18, 22)]
    sideways = [box(20, 200), box(20, 120), box(20, 20), box(22, 18), box(30, 40)]
    assert not scan._standing(upright)
    assert scan._standing(sideways)
    # lone digits (about square) say nothing: a page of them is not taken for sideways
    assert not scan._standing([box(20, 24), box(18, 26), box(200, 20)])


class _SidewaysEngine(_Engine):
    """A detector that finds a column of words standing on end in every band it is given."""

    def detect(self, band: Any) -> list[Any]:
        self.calls.append(band.shape[:2])
        rows = band.shape[0]
        return [
            np.array([[x, 10], [x + 20, 10], [x + 20, rows - 10], [x, rows - 10]], np.float32)
            for x in range(20, 420, 40)
        ]


def test_a_sideways_page_printed_all_over_is_detected_once_as_it_lies(monkeypatch):
    engine = _SidewaysEngine()
    monkeypatch.setattr(scan, "models", lambda: engine)
    page = np.full((1600, 1120, 3), 255, np.uint8)  # five bands as it lies
    page[::2, ::2] = 0  # printed all over
    turns, items = scan._upright(page)
    assert turns in (1, 3)
    # the four bands left as it lies are fewer pixels than the turned page's four: they are
    # detected, and the turned page is not detected again
    assert engine.calls == [(448, 1120)] * 5
    assert len(items) == 5 * 10
    # the sample crops are cut to a few words: 20 px thick, at most VOTE_LENGTH times that
    vote = engine.batches[0]
    assert max(vote) <= scan.VOTE_LENGTH * 21 + 1
    # the boxes are recognised lying on the turned page: 20 px high
    (_x0, y0), _, (_x1, y1), _ = items[0][0]
    assert abs((y1 - y0) - 20) <= 1


def test_a_sideways_page_printed_at_its_two_sides_is_turned_after_the_first_band(monkeypatch):
    engine = _SidewaysEngine()
    monkeypatch.setattr(scan, "models", lambda: engine)
    page = np.full((1600, 1120, 3), 255, np.uint8)
    # printed in two strips: as it lies, every band from the first strip to the second;
    # turned upright, the top and the foot of the page only
    page[::2, 40:300:2] = page[::2, 820:1080:2] = 0
    turns, _items = scan._upright(page)
    assert turns in (1, 3)
    # one band as it lies; the turned page (1120 rows) shows print in three bands of its four
    assert engine.calls == [(448, 1120), (448, 1600), (448, 1600), (256, 1600)]


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_boxes_found_as_the_page_lies_are_placed_on_the_turned_page(turns):
    page = np.zeros((100, 240), np.uint8)
    page[10:30, 50:170] = 255  # a word, 120 x 20 pixels
    box = np.array([[50, 10], [170, 10], [170, 30], [50, 30]], np.float32)
    (placed,) = scan._turned_boxes([box], turns, page.shape)
    turned = np.rot90(page, turns)
    ys, xs = np.nonzero(turned)
    top_left, _, bottom_right, _ = placed.tolist()
    assert top_left == [xs.min(), ys.min()]
    assert bottom_right == [xs.max() + 1, ys.max() + 1]
    assert placed[1][0] > placed[0][0]  # clockwise from the top left
    assert placed[3][1] > placed[0][1]


@pytest.mark.slow
def test_an_image_the_label_reader_read_whole_is_not_read_for_barcodes_again(monkeypatch):
    data, exp = _scanned(seed=34)
    reads: list[Any] = []
    real = scan._symbols
    monkeypatch.setattr(scan, "_symbols", lambda image: reads.append(image) or real(image))
    out = to_records(extract(_scan_png(data), filename="scan.png"))
    assert reads == []
    _assert_scanned_lines(out["records"], exp)


@pytest.mark.slow
def test_a_scanned_page_image_is_read_for_barcodes_as_a_page_not_as_a_photo(monkeypatch):
    import gateway.barcodes as barcodes

    data, exp = _scanned(seed=36)
    modes: list[bool] = []
    real = barcodes.read_labels

    def read_labels(image: Any, **options: Any) -> Any:
        modes.append(bool(options.get("page")))
        return real(image, **options)

    def read_photo(*_args: Any, **_options: Any) -> Any:
        raise AssertionError("a page read as a label photo")

    monkeypatch.setattr(barcodes, "read_labels", read_labels)
    monkeypatch.setattr(barcodes, "read_photo", read_photo)
    out = to_records(extract(_scan_png(data), filename="scan.png"))
    assert modes == [True]  # once, as a page, and the OCR does not read it again
    _assert_scanned_lines(out["records"], exp)


def test_a_label_photographed_on_a_parcel_does_not_look_like_a_page():
    import cv2

    from gateway.parsers.image import page_gray
    from samples.labels import LabelCode, draw_label

    code = LabelCode("0106901234567892", True, "gs1-128")
    label = draw_label([(code, "(01)06901234567892")], np.random.default_rng(4))
    photo = np.full((1500, 2000), 150, np.uint8)  # the parcel round it
    photo[300 : 300 + label.shape[0], 500 : 500 + label.shape[1]] = label
    ok, png = cv2.imencode(".png", photo)
    assert ok
    assert page_gray(png.tobytes()) is None
    # the label alone, small as it is, is no page either; a scanned packing list is one
    ok, png = cv2.imencode(".png", label)
    assert ok
    assert page_gray(png.tobytes()) is None
    data, _ = _scanned(seed=37)
    assert page_gray(_scan_png(data)) is not None


# ----------------------------------------------------------------------------- the models


@pytest.mark.slow
def test_a_scanned_page_is_read_without_importing_the_ocr_package():
    import subprocess
    import sys

    data, exp = _scanned(seed=35)
    script = (
        "import json, sys\n"
        "from gateway.parsers import extract\n"
        "from gateway.parsers.cli import to_records\n"
        "out = to_records(extract(sys.stdin.buffer.read(), filename='scan.pdf'))\n"
        "package = sorted(m for m in sys.modules if m.startswith('rapidocr'))\n"
        "print(json.dumps({'records': out['records'], 'package': package}))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], input=data, capture_output=True, check=True
    )
    result = json.loads(run.stdout.decode().strip().splitlines()[-1])
    assert result["package"] == []
    _assert_scanned_lines([r for r in result["records"] if r["where"].startswith("page 3")], exp)


@pytest.mark.slow
def test_the_models_read_a_page_as_the_ocr_package_reads_it():
    """Detector and recognizer boxes and readings agree with the package's own calls."""
    import pypdfium2 as pdfium
    from rapidocr import RapidOCR
    from rapidocr.ch_ppocr_rec.typings import TextRecInput

    from gateway.parsers.limits import Limits
    from gateway.parsers.ocr import models

    data, _ = _scanned(seed=36)
    image, _scale = scan.render_page(pdfium.PdfDocument(data)[2], Limits())
    image = scan._load(scan._resize(image, 0.5))  # a band-sized page: one detector call
    package = RapidOCR(
        params={
            "Global.use_cls": False,
            "Global.log_level": "warning",
            "Det.limit_type": "max",
            "Det.limit_side_len": 4096,
            "Det.box_thresh": 0.3,
            "Rec.rec_img_shape": [3, 48, int(scan.REC_MIN_WIDTH)],
        }
    )
    theirs = package._load_det_model()(image).boxes
    ours = models().detect(image)
    assert len(ours) == len(theirs) > 20
    assert np.abs(np.array(ours) - np.array(theirs)).max() <= 1
    crops = [scan._crop(image, box) for box in ours[:6]]
    read = package._load_rec_model()(TextRecInput(img=crops))
    mine = models().recognise(crops, scan.REC_MIN_WIDTH)
    assert [t for t, _ in mine] == list(read.txts)
    assert np.allclose([s for _, s in mine], read.scores, atol=1e-4)


def test_barcode_areas_a_scanned_page_left_unread_at_a_limit_are_in_the_answer(monkeypatch):
    import gateway.barcodes
    from gateway.barcodes import LabelRead, UnreadRegion

    quad = ((100.0, 200.0), (300.0, 200.0), (300.0, 400.0), (100.0, 400.0))
    stopped = LabelRead(
        [],
        [],
        [UnreadRegion(quad, "matrix", "time budget"), UnreadRegion(quad, "linear", "not decoded")],
        1000.0,
        True,
    )
    monkeypatch.setattr(gateway.barcodes, "read_labels", lambda image, **kwargs: stopped)
    data, _ = build_pdf(seed=35, rotated_page=False, scanned_page=True, scan_barcodes=True)
    ex = extract(data, filename="scan.pdf")
    unread = [p for p in ex.problems if p.kind == "regions_unread"]
    assert len(unread) == 1
    assert unread[0].source.page == 3
    # the area the budget stopped is named, in page points; the one tried to the end is not
    assert "1 barcode-like area(s) of page 3" in unread[0].message
    assert "time budget" in unread[0].message
    assert "matrix at x 36-108, y 72-144 pt" in unread[0].message


# ----------------------------------------------------------------------------- which way up

_SAME = ("code", "line", "lot", "qty", "destination", "hs_code", "un_number", "valid", "method")


def _scan_records(data: bytes, filename: str) -> list[dict[str, Any]]:
    """What the scanned page gives: its records without where they lie, in a fixed order (a
    page image with barcodes gives them as loose codes, in the order they lie)."""
    out = to_records(extract(data, filename=filename))
    found = [
        r for r in out["records"] if filename.endswith(".png") or r["where"].startswith("page 3")
    ]
    return sorted(({name: r[name] for name in _SAME} for r in found), key=json.dumps)


@functools.cache
def _upright_records(barcodes: bool, filename: str) -> list[dict[str, Any]]:
    data, _ = build_pdf(seed=36, rotated_page=False, scanned_page=True, scan_barcodes=barcodes)
    return _scan_records(_scan_png(data) if filename.endswith(".png") else data, filename)


@pytest.mark.slow
@pytest.mark.parametrize("barcodes", [False, True])
@pytest.mark.parametrize("filename", ["scan.pdf", "scan.png"])
@pytest.mark.parametrize("turns", [1, 2, 3])
def test_a_scanned_page_fed_in_any_way_round_gives_the_upright_pages_records(
    turns: int, filename: str, barcodes: bool
):
    upright = _upright_records(barcodes, filename)
    assert len(upright) == 6
    data, _ = build_pdf(
        seed=36, rotated_page=False, scanned_page=True, scan_turns=turns, scan_barcodes=barcodes
    )
    if filename.endswith(".png"):
        data = _scan_png(data)
    assert _scan_records(data, filename) == upright


@pytest.mark.slow
def test_gateway_extract_reads_an_upside_down_scan_as_the_upright_one(tmp_path):
    import subprocess
    import sys

    data, exp = build_pdf(seed=37, rotated_page=False, scanned_page=True, scan_turns=2)
    path = tmp_path / "upside_down.pdf"
    path.write_bytes(data)
    run = subprocess.run(
        [sys.executable, "-m", "gateway", "extract", str(path)], capture_output=True, check=True
    )
    out = json.loads(run.stdout)
    _assert_scanned_lines([r for r in out["records"] if r["where"].startswith("page 3")], exp)
    assert [e for e in out["errors"] if e["kind"] == "page_unreadable"] == []


def _pdf_of_images(*images: Any) -> bytes:
    """A PDF whose pages are these grey images, A4 landscape: a scanner's output."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=landscape(A4))
    for image in images:
        c.drawImage(ImageReader(image), 0, 0, width=landscape(A4)[0], height=landscape(A4)[1])
        c.showPage()
    c.save()
    return buf.getvalue()


def _unreadable(kinds: list[tuple[int | None, str, str]], page: int) -> list[str]:
    return [
        severity for number, kind, severity in kinds if number == page and kind == "page_unreadable"
    ]


def _problems(data: bytes, filename: str) -> list[tuple[int | None, str, str]]:
    ex = extract(data, filename=filename)
    return [(p.source.page if p.source else None, p.kind, p.severity.value) for p in ex.problems]


@pytest.mark.slow
def test_a_blank_scanned_page_and_one_with_no_readable_text_are_named_not_silent():
    from PIL import Image, ImageDraw

    blank = Image.new("L", (2339, 1654), 255)
    marks = Image.new("L", (2339, 1654), 255)
    draw = ImageDraw.Draw(marks)
    for i in range(0, 2339, 90):  # a drawing: circles and hatching, no letters
        draw.ellipse((i, 300, i + 70, 370), outline=0, width=5)
        draw.line((i, 900, i + 400, 1500), fill=0, width=6)
    problems = _problems(_pdf_of_images(blank, marks), "scan.pdf")
    assert _unreadable(problems, 1) == ["info"]
    assert _unreadable(problems, 2) == ["warn"]
    buf = io.BytesIO()
    marks.save(buf, format="PNG")
    assert _unreadable(_problems(buf.getvalue(), "scan.png"), 1) == ["warn"]


@pytest.mark.slow
def test_a_scanned_page_read_poorly_into_nothing_is_named(monkeypatch):
    # the page read as it lies although it is upside down: text at ~0.7 confidence, no table
    monkeypatch.setattr(scan, "_direction", lambda _image, _boxes, turns: turns)
    data, _ = build_pdf(seed=38, rotated_page=False, scanned_page=True, scan_turns=2)
    problems = _problems(data, "scan.pdf")
    assert _unreadable(problems, 3) == ["warn"]
    assert _unreadable(problems, 1) == _unreadable(problems, 2) == []


@pytest.mark.slow
def test_an_upright_scan_without_codes_read_well_is_not_a_problem():
    from PIL import Image, ImageDraw, ImageFont

    letter = Image.new("L", (2339, 1654), 255)
    draw = ImageDraw.Draw(letter)
    font = ImageFont.load_default(size=40)
    lines = ["Dear customer,", "please find the packing list attached.",
             "The goods leave Shanghai on Monday.", "Kind regards"]  # fmt: skip
    for row, text in enumerate(lines):
        draw.text((200, 200 + 80 * row), text, fill=0, font=font)
    assert _unreadable(_problems(_pdf_of_images(letter), "scan.pdf"), 1) == []
