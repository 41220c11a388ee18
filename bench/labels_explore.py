"""Measure candidate reading strategies image by image, to rank them by codes gained per ms.

    .venv/bin/python bench/labels_explore.py --set CORPUS_DIR [--only NAME,...] [--out FILE]

Each strategy takes a grayscale image and returns (text, symbology id) pairs. For every image
and strategy the harness records which required codes were found, which texts were wrong reads
(not in truth.json) and the time taken, then prints per strategy: recall, wrong reads, ms per
image, and the codes it adds over the plain zxing-cpp read. With --out the raw records are
written as JSON so cascades can be evaluated offline. Without --set it runs on labels drawn by
samples/labels.py.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import zxingcpp

from gateway.barcodes import _zbar, read

Strategy = Callable[[np.ndarray], list[tuple[str, str]]]
_F = zxingcpp.BarcodeFormat
_FORMATS = zxingcpp.BarcodeFormats([_F.Code128, _F.DataMatrix, _F.QRCode, _F.EAN13, _F.ITF])


def _zx(image: np.ndarray, **options: object) -> list[tuple[str, str]]:
    found = zxingcpp.read_barcodes(
        image,
        formats=_FORMATS,
        text_mode=zxingcpp.TextMode.Plain,
        **options,  # type: ignore[arg-type]
    )
    return [(r.text, r.symbology_identifier) for r in found]


def _scaled(factor: float, interpolation: int = cv2.INTER_CUBIC) -> Strategy:
    def run(image: np.ndarray) -> list[tuple[str, str]]:
        view = cv2.resize(image, None, fx=factor, fy=factor, interpolation=interpolation)
        return _zx(view, try_downscale=False)

    return run


def _zbar_full(image: np.ndarray) -> list[tuple[str, str]]:
    return [(r.text, "zbar") for r in _zbar.read(image)]


def _gateway(image: np.ndarray) -> list[tuple[str, str]]:
    return [(s.text, s.symbology_id or "") for s in read(image)]


def _clahe(image: np.ndarray) -> list[tuple[str, str]]:
    view = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(image)
    return _zx(view)


def _unsharp(image: np.ndarray) -> list[tuple[str, str]]:
    blurred = cv2.GaussianBlur(image, (0, 0), 2.0)
    view = cv2.addWeighted(image, 2.5, blurred, -1.5, 0)
    return _zx(view)


STRATEGIES: dict[str, Strategy] = {
    "zx": lambda image: _zx(image),
    "zx-nodown": lambda image: _zx(image, try_downscale=False),
    "zx-global": lambda image: _zx(image, binarizer=zxingcpp.Binarizer.GlobalHistogram),
    "zx-x0.5": _scaled(0.5, cv2.INTER_AREA),
    "zx-x1.5": _scaled(1.5),
    "zx-x2": _scaled(2.0),
    "zx-x2-lanczos": _scaled(2.0, cv2.INTER_LANCZOS4),
    "zx-clahe": _clahe,
    "zx-unsharp": _unsharp,
    "zbar": _zbar_full,
    "gateway": _gateway,
}


def _matched(required: list[str], texts: list[str]) -> list[str]:
    # One decode per expected code: a text carried by two symbols must be read twice.
    remaining = list(texts)
    found = []
    for text in required:
        if text in remaining:
            remaining.remove(text)
            found.append(text)
    return found


@dataclass(slots=True)
class Item:
    """One image with the codes it must give (required) and may give (allowed)."""

    name: str
    degradation: str
    image: np.ndarray
    required: list[str]
    allowed: list[str]


def load(folder: Path) -> list[Item]:
    """The images of a corpus folder with its truth.json."""
    truth = json.loads((folder / "truth.json").read_text())
    items = []
    for entry in truth["images"]:
        image = np.asarray(cv2.imread(str(folder / entry["file"]), cv2.IMREAD_GRAYSCALE))
        required = [c["text"] for c in entry["codes"] if c.get("required", True)]
        allowed = [c["text"] for c in entry["codes"]]
        items.append(Item(entry["file"], entry["degradation"], image, required, allowed))
    return items


def generated(count: int) -> list[Item]:
    """Labels drawn by samples/labels.py (works without any corpus)."""
    from samples.labels import label_set

    items = []
    for item in label_set(count, seed=2024):
        codes = item["codes"]
        image = item["image"]
        assert isinstance(codes, list)
        assert isinstance(image, np.ndarray)
        texts = [code.text for code in codes]
        items.append(Item(str(item["name"]), str(item["degradation"]), image, texts, texts))
    return items


def main() -> None:
    """Run the chosen strategies over the images and print one summary line per strategy."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", type=Path, default=None)
    parser.add_argument("--count", type=int, default=48)
    parser.add_argument("--only", default="", help="comma-separated strategy names")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    items = load(args.set) if args.set else generated(args.count)
    names = [n for n in args.only.split(",") if n] or list(STRATEGIES)
    total = sum(len(item.required) for item in items)
    records: dict[str, list[dict[str, object]]] = {}
    baseline: list[set[str]] | None = None
    for name in names:
        strategy = STRATEGIES[name]
        rows: list[dict[str, object]] = []
        found_sets: list[set[str]] = []
        found = wrong = 0
        elapsed = 0.0
        for item in items:
            start = time.perf_counter()
            try:
                texts = [text for text, _ in strategy(item.image)]
            except Exception as exc:  # a strategy that crashes is recorded, not fatal
                texts = [f"<error {type(exc).__name__}>"]
            seconds = time.perf_counter() - start
            elapsed += seconds
            matched = _matched(item.required, texts)
            bad = [text for text in texts if text not in item.allowed]
            found += len(matched)
            wrong += len(bad)
            found_sets.append(set(matched))
            rows.append(
                {
                    "name": item.name,
                    "degradation": item.degradation,
                    "found": matched,
                    "wrong": bad,
                    "ms": seconds * 1000,
                }
            )
        records[name] = rows
        ms = elapsed * 1000 / max(len(items), 1)
        gain = ""
        if baseline is not None:
            added = sum(len(mine - base) for mine, base in zip(found_sets, baseline, strict=True))
            gain = f"  +{added} over {names[0]} ({added / max(ms, 1e-3):.3f} per ms)"
        else:
            baseline = found_sets
        print(
            f"{name:14s} recall {found / max(total, 1):.3f} ({found}/{total})  "
            f"wrong {wrong}  {ms:6.1f} ms/image{gain}",
            flush=True,
        )
    if args.out:
        args.out.write_text(json.dumps(records))


if __name__ == "__main__":
    main()
