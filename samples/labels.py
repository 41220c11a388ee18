"""Battery labels with known barcodes, drawn by the project's own code.

Symbols come from three independent encoders, so a test does not only check a reader
against its own writer: zxing-cpp's writer (GS1-128, GS1 DataMatrix, GS1 QR, Code 128,
EAN-13, ITF-14, GS1 DataBar in all five forms), segno (plain QR Code) and ppf-datamatrix
(plain DataMatrix). `degrade` imitates a phone photo or a scan: rotation, perspective, motion
and Gaussian blur, noise, JPEG, low contrast, low resolution, uneven light, glare. Barcode-free
images are label pages (text, rules, hazard hatching) and textured surfaces (wood grain,
fabric, corrugated board, gravel) that a photo of a parcel may show instead of a label.

    python -m samples.labels OUT_DIR [--count N] [--seed S]

writes images plus a `truth.json` in the label-corpus format the benchmark reads.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import segno
import zxingcpp
from ppf.datamatrix import DataMatrix

from gateway.gs1 import check_digit

GS = "\x1d"
DEGRADATIONS = (
    "clean",
    "rotation_small",
    "rotation_90_180",
    "perspective",
    "blur_motion",
    "blur_gauss",
    "noise",
    "jpeg_low",
    "low_contrast",
    "low_res",
    "uneven_light",
    "glare",
)


@dataclass(frozen=True, slots=True)
class LabelCode:
    """A code drawn on a label: what a reader must return for it."""

    text: str  # element string (GS between fields) or plain text
    gs1: bool
    symbology: str  # "gs1-128", "code128", "gs1-datamatrix", "datamatrix", "gs1-qrcode", ...


def _element_string(hri: str) -> str:
    # "(01)...(10)LOT(21)SN" -> "01...10LOT<GS>21SN": GS after variable-length fields only.
    fixed = {"00", "01", "02", "11", "13", "15", "16", "17", "20"}
    parts = [part.split(")") for part in hri.split("(")[1:]]
    out = ""
    for index, (ai, value) in enumerate(parts):
        out += ai + value
        if ai not in fixed and index < len(parts) - 1:
            out += GS
    return out


def random_codes(rng: np.random.Generator) -> list[tuple[LabelCode, str]]:
    """A plausible set of codes for one label: (expected code, encoder input)."""
    gtin = f"0695{rng.integers(10**8, 10**9)}"
    gtin += check_digit(gtin)
    serial = "".join(rng.choice(list("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"), 8))
    lot = f"L{rng.integers(100000, 999999)}"
    sscc = f"0695012345{rng.integers(10**6, 10**7)}"
    sscc += check_digit(sscc)
    hri_unit = f"(01){gtin}(10){lot}(21){serial}"
    hri_sscc = f"(00){sscc}"
    ean = f"695{rng.integers(10**8, 10**9)}"
    ean += check_digit(ean)
    itf = f"1{gtin[1:13]}"
    itf += check_digit(itf)
    gb = "".join(rng.choice(list("0123456789ABCDEFGHJKLMNPRSTVWXY"), 24))
    link = f"https://id.example.com/01/{gtin}/21/{serial}"
    options: list[tuple[LabelCode, str]] = [
        (LabelCode(_element_string(hri_unit), True, "gs1-128"), hri_unit),
        (LabelCode(_element_string(hri_sscc), True, "gs1-128"), hri_sscc),
        (LabelCode(_element_string(hri_unit), True, "gs1-datamatrix"), hri_unit),
        (LabelCode(_element_string(hri_unit), True, "gs1-qrcode"), hri_unit),
        (LabelCode(ean, False, "ean13"), ean),
        (LabelCode(itf, False, "itf14"), itf),
        (LabelCode(gb, False, "code128"), gb),
        (LabelCode(link, False, "qrcode"), link),
        (LabelCode(gb, False, "datamatrix"), gb),
    ]
    count = int(rng.integers(1, 4))
    picked = rng.choice(len(options), count, replace=False)
    # One symbology per label at most once, and a text at most once per label.
    chosen: list[tuple[LabelCode, str]] = []
    for index in sorted(int(i) for i in picked):
        code = options[index]
        if all(code[0].text != other[0].text for other in chosen):
            chosen.append(code)
    return chosen


DATABAR_FORMS = (
    "gs1-databar",
    "gs1-databar-stacked",
    "gs1-databar-limited",
    "gs1-databar-expanded",
    "gs1-databar-expanded-stacked",
)


def databar_code(rng: np.random.Generator, form: str | None = None) -> tuple[LabelCode, str]:
    """A GS1 DataBar code of `form` (random when None): a GTIN alone for the fixed-length
    forms, GTIN with expiry and lot, or lot and serial, for the Expanded ones."""
    if form is None:
        form = DATABAR_FORMS[int(rng.integers(len(DATABAR_FORMS)))]
    # Indicator digit 0 or 1: DataBar Limited carries no other.
    gtin = f"{rng.integers(0, 2)}695{rng.integers(10**8, 10**9)}"
    gtin += check_digit(gtin)
    if form == "gs1-databar-expanded":
        expiry = f"{rng.integers(26, 31)}{rng.integers(1, 13):02d}{rng.integers(1, 29):02d}"
        hri = f"(01){gtin}(17){expiry}(10)L{rng.integers(1000, 99999)}"
    elif form == "gs1-databar-expanded-stacked":
        serial = "".join(rng.choice(list("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"), 6))
        hri = f"(01){gtin}(10)L{rng.integers(1000, 99999)}(21){serial}"
    else:
        hri = f"(01){gtin}"
    return LabelCode(_element_string(hri), True, form), hri


def symbol_image(code: LabelCode, source: str, module_px: int) -> np.ndarray:
    """A grayscale image of one symbol with its quiet zone, `module_px` pixels per module."""
    fmt = zxingcpp.BarcodeFormat
    if code.symbology == "qrcode":
        qr = segno.make_qr(source, error="m")
        matrix = np.array(list(qr.matrix), dtype=np.uint8)
        return _matrix_to_image(matrix, module_px, quiet=4)
    if code.symbology == "datamatrix":
        dm = DataMatrix(source)
        matrix = np.array(dm.matrix, dtype=np.uint8)
        return _matrix_to_image(matrix, module_px, quiet=2)
    formats = {
        "gs1-128": fmt.Code128,
        "code128": fmt.Code128,
        "gs1-datamatrix": fmt.DataMatrix,
        "gs1-qrcode": fmt.QRCode,
        "ean13": fmt.EAN13,
        "itf14": fmt.ITF,
        "gs1-databar": fmt.DataBarOmni,
        "gs1-databar-stacked": fmt.DataBarStkOmni,
        "gs1-databar-limited": fmt.DataBarLtd,
        "gs1-databar-expanded": fmt.DataBarExp,
        "gs1-databar-expanded-stacked": fmt.DataBarExpStk,
    }
    # DataBar is GS1 by definition: its writer takes the bracketed element string as it is.
    gs1_mode = code.gs1 and not code.symbology.startswith("gs1-databar")
    barcode = zxingcpp.create_barcode(source, formats[code.symbology], gs1=gs1_mode)
    image = np.array(barcode.to_image(scale=module_px), dtype=np.uint8)
    if code.symbology in ("gs1-128", "code128", "ean13", "itf14"):
        height = max(image.shape[0], 40 * module_px)
        image = np.asarray(
            cv2.resize(image, (image.shape[1], height), interpolation=cv2.INTER_NEAREST), np.uint8
        )
    pad = 10 * module_px
    return np.pad(image, pad, constant_values=255)


def _matrix_to_image(matrix: np.ndarray, module_px: int, quiet: int) -> np.ndarray:
    image = np.where(matrix > 0, 0, 255).astype(np.uint8)
    image = np.pad(image, quiet, constant_values=255)
    return np.kron(image, np.ones((module_px, module_px), np.uint8))


def draw_label(
    codes: list[tuple[LabelCode, str]], rng: np.random.Generator, module_px: int = 3
) -> np.ndarray:
    """An A6-like label (white, black text lines) carrying the symbols, top to bottom."""
    symbols = [symbol_image(code, source, module_px) for code, source in codes]
    width = max([900, *(s.shape[1] + 80 for s in symbols)])
    height = 220 + sum(s.shape[0] + 30 for s in symbols)
    label = np.full((height, width), 255, np.uint8)
    for line in range(4):
        text = f"BATTERY UN3481 LOT {rng.integers(1000, 9999)} NET {rng.integers(1, 40)} KG"
        cv2.putText(label, text, (40, 50 + 40 * line), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 0, 2)
    y = 200
    for symbol in symbols:
        x = int(rng.integers(30, max(31, width - symbol.shape[1] - 30)))
        label[y : y + symbol.shape[0], x : x + symbol.shape[1]] = symbol
        y += symbol.shape[0] + 30
    return label


def barcode_free(rng: np.random.Generator) -> np.ndarray:
    """A label or manifest page without any symbol: text, table rules and hazard stripes."""
    page = np.full((1100, 850), 255, np.uint8)
    for row in range(12):
        y = 60 + row * 60
        cv2.putText(
            page,
            f"{row + 1}  SSCC 6950123{rng.integers(10**9, 10**10)}",
            (40, y),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.8,
            0,
            2,
        )
        cv2.line(page, (30, y + 15), (820, y + 15), 0, 1)
    for stripe in range(14):  # hazard-label hatching: bar-like, but not a symbol
        x = 450 + stripe * 22
        cv2.line(page, (x, 850), (x + 120, 1050), 0, 8)
    return page


TEXTURES = ("wood", "fabric", "corrugated", "gravel")


def textured_background(rng: np.random.Generator, kind: str | None = None) -> np.ndarray:
    """A barcode-free photo of a surface: wood grain, woven fabric, corrugated board or gravel.

    Each has strong, often coherent texture (grain lines, threads, flutes) that a barcode
    region finder must not take for bars.
    """
    if kind is None:
        kind = TEXTURES[int(rng.integers(len(TEXTURES)))]
    height, width = int(rng.integers(900, 1300)), int(rng.integers(1100, 1600))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    theta = float(rng.uniform(0, math.pi))
    along = xs * math.cos(theta) + ys * math.sin(theta)
    across = -xs * math.sin(theta) + ys * math.cos(theta)
    smooth = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 25)
    noise = np.asarray(smooth / max(float(np.abs(smooth).max()), 1e-6), np.float32)
    if kind == "wood":
        # Grain: lines of irregular spacing, bent by a slow warp, with knots of darker wood.
        period = float(rng.uniform(9, 22))
        phase = across / period + 6.0 * noise + 0.3 * np.sin(along / 90.0)
        image = 150 + 45 * np.sin(2 * math.pi * phase) ** 3 + 30 * noise
    elif kind == "fabric":
        period = float(rng.uniform(5, 10))
        warp = np.sin(2 * math.pi * along / period)
        weft = np.sin(2 * math.pi * across / period)
        image = 140 + 35 * warp * weft + 25 * np.sign(warp) * 0.5 + 20 * noise
    elif kind == "corrugated":
        # Flutes of board seen through its liner: one period, soft shading.
        period = float(rng.uniform(12, 30))
        image = 165 + 40 * np.sin(2 * math.pi * across / period) + 25 * noise
    else:
        stones = rng.uniform(0, 255, (height // 8 + 1, width // 8 + 1)).astype(np.float32)
        image = cv2.resize(stones, (width, height), interpolation=cv2.INTER_CUBIC)
        image = 0.6 * cv2.GaussianBlur(image, (0, 0), 2.0) + 50 + 30 * noise
    image = image + rng.normal(0, 6, image.shape)
    return np.asarray(np.clip(image, 0, 255), np.uint8)


def degrade(
    image: np.ndarray, kind: str, rng: np.random.Generator, strength: float = 1.0
) -> tuple[np.ndarray, str]:
    """The image as a photo or scan of kind `kind` would show it; returns (pixels, extension).

    `strength` scales blur lengths and noise (1: the usual range; harsher sets use more).
    """
    out = image.copy()
    if kind in ("rotation_small", "perspective"):
        out = _rotate(out, float(rng.uniform(-15, 15)))
    if kind == "rotation_90_180":
        out = np.ascontiguousarray(np.rot90(out, int(rng.integers(1, 4))))
    if kind == "perspective":
        out = _perspective(out, float(rng.uniform(0.04, 0.1)), rng)
    if kind == "blur_motion":
        length = float(rng.uniform(3, 6)) * strength
        kernel = np.zeros((int(length) * 2 + 1,) * 2, np.float32)
        angle = float(rng.uniform(0, 180))
        c = int(length)
        dx, dy = length * math.cos(math.radians(angle)), length * math.sin(math.radians(angle))
        cv2.line(
            kernel,
            (round(c - dx / 2), round(c - dy / 2)),
            (round(c + dx / 2), round(c + dy / 2)),
            1.0,
            1,
        )
        out = cv2.filter2D(out, -1, kernel / kernel.sum())
    if kind == "blur_gauss":
        out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(1.0, 1.6)) * strength)
    if kind == "noise":
        noisy = out.astype(np.float32) + rng.normal(0, 18 * strength, out.shape)
        out = np.asarray(np.clip(noisy, 0, 255), np.uint8)
    if kind == "low_contrast":
        out = (110 + out.astype(np.float32) * 0.35).astype(np.uint8)
    if kind == "low_res":
        small = cv2.resize(out, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)
        out = small
    if kind == "uneven_light":
        _h, w = out.shape
        ramp = np.linspace(0.45, 1.0, w, dtype=np.float32)[None, :]
        out = (out.astype(np.float32) * ramp).astype(np.uint8)
    if kind == "glare":
        out = glare(out, rng)
    quality = 30 if kind == "jpeg_low" else 80
    ok, encoded = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return np.asarray(cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE), np.uint8), ".jpg"


def glare(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A bright reflection: a soft spot where bars fade toward white, over the symbol area."""
    height, width = image.shape
    cy = float(rng.uniform(0.45, 0.8)) * height
    cx = float(rng.uniform(0.3, 0.7)) * width
    radius = float(rng.uniform(0.06, 0.12)) * max(height, width)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    spot = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * radius**2))
    strength = float(rng.uniform(0.6, 0.85))
    lifted = image.astype(np.float32) + (255 - image.astype(np.float32)) * spot * strength
    return np.asarray(np.clip(lifted, 0, 255), np.uint8)


def _rotate(image: np.ndarray, angle: float) -> np.ndarray:
    h, w = image.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(h * sin + w * cos), int(h * cos + w * sin)
    matrix[0, 2] += new_w / 2 - w / 2
    matrix[1, 2] += new_h / 2 - h / 2
    return cv2.warpAffine(image, matrix, (new_w, new_h), borderValue=90)


def _perspective(image: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    h, w = image.shape
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    jitter = rng.uniform(0, amount, (4, 2)) * np.array([w, h], np.float32)
    dst = src + np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], np.float32) * jitter
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    return cv2.warpPerspective(image, matrix, (w, h), borderValue=90)


# Degradations stacked in a harsh set: each label gets two of these, blur and noise stronger.
HARSH_KINDS = (
    "blur_motion",
    "blur_gauss",
    "noise",
    "low_contrast",
    "uneven_light",
    "glare",
    "perspective",
    "jpeg_low",
)


def label_set(count: int, seed: int, *, harsh: bool = False) -> list[dict[str, object]]:
    """`count` labels cycling through every degradation, plus barcode-free pages.

    With `harsh`, each label gets two degradations of `HARSH_KINDS`, motion blur up to 10 px
    and stronger defocus and noise: a set to check that gains hold beyond the usual range.
    Each item: {"name", "image" (ndarray), "degradation", "codes": [LabelCode, ...]}.
    """
    rng = np.random.default_rng(seed)
    # DataBar symbols and textured surfaces come from a stream of their own, so the labels of
    # a seed keep their other codes.
    extra = np.random.default_rng([seed, 1])
    items: list[dict[str, object]] = []
    for index in range(count):
        kind = DEGRADATIONS[index % len(DEGRADATIONS)]
        if index % 12 == 11:
            page = textured_background(extra) if (index // 12) % 2 else barcode_free(rng)
            image, _ = degrade(page, "clean", rng)
            items.append(
                {
                    "name": f"label_{index:04d}",
                    "image": image,
                    "degradation": "no_barcode",
                    "codes": [],
                }
            )
            continue
        codes = random_codes(rng)
        if index % 4 == 1:  # a DataBar symbol on every fourth label
            codes.append(databar_code(extra))
        module_px = 2 if kind == "low_res" else int(rng.integers(3, 5))
        image = draw_label(codes, rng, module_px)
        if harsh:
            picked = rng.choice(len(HARSH_KINDS), 2, replace=False)
            kinds = [HARSH_KINDS[int(i)] for i in picked]
            for one in kinds:
                image, _ = degrade(image, one, rng, strength=float(rng.uniform(1.0, 1.7)))
            kind = "+".join(kinds)
        else:
            image, _ = degrade(image, kind, rng)
        items.append(
            {
                "name": f"label_{index:04d}",
                "image": image,
                "degradation": kind,
                "codes": [code for code, _ in codes],
            }
        )
    return items


# The reader-level symbology of each printed one, as the label-corpus format names it.
_FAMILY = {
    "gs1-128": "code128",
    "code128": "code128",
    "gs1-datamatrix": "datamatrix",
    "datamatrix": "datamatrix",
    "gs1-qrcode": "qrcode",
    "qrcode": "qrcode",
    "ean13": "ean13",
    "itf14": "itf",
    **{form: "databar" for form in DATABAR_FORMS},
}


def write_set(out_dir: Path, count: int, seed: int, *, harsh: bool = False) -> Path:
    """Write a label set as JPEG files plus truth.json; returns the truth file's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    images = []
    for item in label_set(count, seed, harsh=harsh):
        name = f"{item['name']}.jpg"
        image = item["image"]
        assert isinstance(image, np.ndarray)
        cv2.imwrite(str(out_dir / name), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        codes = item["codes"]
        assert isinstance(codes, list)
        images.append(
            {
                "file": name,
                "degradation": item["degradation"],
                "codes": [
                    {
                        "text": c.text,
                        "gs1": c.gs1,
                        "symbology": c.symbology,
                        "family": _FAMILY[c.symbology],
                        "required": True,
                    }
                    for c in codes
                ],
            }
        )
    truth = out_dir / "truth.json"
    truth.write_text(
        json.dumps(
            {"format": "gs1-label-corpus/1", "set": f"generated-{seed}", "images": images}, indent=1
        )
    )
    return truth


def main() -> None:
    """Command line entry: write a generated label set."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--count", type=int, default=48)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--harsh", action="store_true", help="two stacked degradations per label, stronger blur"
    )
    args = parser.parse_args()
    print(write_set(args.out_dir, args.count, args.seed, harsh=args.harsh))


if __name__ == "__main__":
    main()
