"""Label reading benchmark: the gateway reader against pyzbar-only and zxing-cpp-only.

    .venv/bin/python bench/bench_labels.py [--set CORPUS_DIR] [--count N] [--seed S] [--harsh]

Runs the three readers on the same images in one process, taking turns image by image (a
change of load during the run weighs on all alike), and prints recall, wrong reads and
images/s for each; then, with zxing-cpp measured in the same run:

* photos where zxing-cpp's whole-image read is complete (every required code): the
  gateway's time over zxing-cpp's own on those photos (target <= 2x);
* barcode-free photos: median and p95 latency (target p95 <= 150 ms) and any read on them;
* the gateway's median and p95 over all photos, and on one 12-megapixel photo.

Without --set it reads labels drawn by samples/labels.py (DataBar and textured barcode-free
surfaces included), so it runs on a fresh checkout; with --set it reads a folder holding
truth.json. The load average is printed before and after: the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import zxingcpp
from pyzbar import pyzbar

from gateway.barcodes import read
from samples.labels import draw_label, label_set, random_codes

Reader = Callable[[np.ndarray], list[str]]
Items = list[tuple[np.ndarray, list[str], list[str]]]


def gateway_reader(image: np.ndarray) -> list[str]:
    """The product's reader: cascade, validation, merging."""
    return [symbol.text for symbol in read(image)]


def zxing_only(image: np.ndarray) -> list[str]:
    """zxing-cpp once on the whole image, every format, default options."""
    return [r.text for r in zxingcpp.read_barcodes(image, text_mode=zxingcpp.TextMode.Plain)]


def pyzbar_only(image: np.ndarray) -> list[str]:
    """ZBar once on the whole image (pyzbar's decode: no DataMatrix, GS1 flag dropped)."""
    return [r.data.decode("latin-1") for r in pyzbar.decode(image)]


def load_corpus(folder: Path) -> Items:
    truth = json.loads((folder / "truth.json").read_text())
    items = []
    for entry in truth["images"]:
        image = np.asarray(cv2.imread(str(folder / entry["file"]), cv2.IMREAD_GRAYSCALE), np.uint8)
        required = [c["text"] for c in entry["codes"] if c.get("required", True)]
        allowed = [c["text"] for c in entry["codes"]]
        items.append((image, required, allowed))
    return items


def generated(count: int, seed: int, harsh: bool) -> Items:
    items = []
    for item in label_set(count, seed=seed, harsh=harsh):
        texts = [code.text for code in item["codes"]]  # type: ignore[attr-defined]
        items.append((item["image"], texts, texts))
    return items  # type: ignore[return-value]


def score(readers: dict[str, Reader], items: Items) -> dict[str, dict[str, Any]]:
    """Recall, wrong reads and speed of each reader, with per-image times and completeness.

    The readers take turns image by image, so a change of the machine's load during the run
    weighs on all of them alike.
    """
    totals = {name: {"found": 0, "required": 0, "wrong": 0, "free_reads": 0} for name in readers}
    times: dict[str, list[float]] = {name: [] for name in readers}
    complete: dict[str, list[bool]] = {name: [] for name in readers}
    for image, need, allowed in items:
        for name, reader in readers.items():
            start = time.perf_counter()
            texts = reader(image)
            times[name].append(time.perf_counter() - start)
            remaining = list(texts)
            hits = 0
            for text in need:  # one decode per expected code: repeated texts count per symbol
                if text in remaining:
                    remaining.remove(text)
                    hits += 1
            total = totals[name]
            total["found"] += hits
            total["required"] += len(need)
            total["wrong"] += sum(1 for text in texts if text not in allowed)
            total["free_reads"] += 0 if allowed else len(texts)
            complete[name].append(bool(need) and hits == len(need))
    return {
        name: {
            "recall": total["found"] / max(total["required"], 1),
            "wrong": total["wrong"],
            "images_s": len(items) / max(sum(times[name]), 1e-9),
            "times": times[name],
            "complete": complete[name],
            "free_reads": total["free_reads"],
        }
        for name, total in totals.items()
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else 0.0


def photo_12mp() -> np.ndarray:
    rng = np.random.default_rng(1)
    label = draw_label(random_codes(rng), rng, module_px=6)
    photo = np.full((3000, 4000), 120, np.uint8)  # 12 MP: the label on a grey desk
    h, w = min(label.shape[0], 2900), min(label.shape[1], 3900)
    photo[50 : 50 + h, 50 : 50 + w] = label[:h, :w]
    return photo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", type=Path, default=None, help="folder with truth.json")
    parser.add_argument("--count", type=int, default=48, help="generated labels")
    parser.add_argument("--seed", type=int, default=2024, help="seed of the generated labels")
    parser.add_argument("--harsh", action="store_true", help="generate the harsh kind of set")
    parser.add_argument("--latency-runs", type=int, default=9)
    args = parser.parse_args()
    items = load_corpus(args.set) if args.set else generated(args.count, args.seed, args.harsh)
    print(f"images: {len(items)} ({args.set or 'generated by samples/labels.py'})")
    print(f"load average before the run: {os.getloadavg()[0]:.2f} (shared machines vary)")
    readers: dict[str, Reader] = {
        "pyzbar only": pyzbar_only,
        "zxing-cpp only": zxing_only,
        "gateway": gateway_reader,
    }
    results = score(readers, items)
    for name, r in results.items():
        print(
            f"{name:15s} recall {r['recall']:.3f}  wrong {r['wrong']:3.0f}  "
            f"{r['images_s']:6.1f} images/s"
        )
    zxing, gateway = results["zxing-cpp only"], results["gateway"]
    print(f"gateway speed / zxing-cpp-only speed: {gateway['images_s'] / zxing['images_s']:.2f}")
    easy = [index for index, done in enumerate(zxing["complete"]) if done]
    if easy:
        zx_time = sum(zxing["times"][i] for i in easy)
        gw_time = sum(gateway["times"][i] for i in easy)
        ratios = [gateway["times"][i] / max(zxing["times"][i], 1e-6) for i in easy]
        print(
            f"photos zxing-cpp reads completely: {len(easy)}; gateway time / zxing-cpp time "
            f"{gw_time / zx_time:.2f} (median per photo {statistics.median(ratios):.2f}; "
            f"gateway {gw_time / len(easy) * 1000:.0f} ms, zxing-cpp "
            f"{zx_time / len(easy) * 1000:.0f} ms per photo; target <= 2)"
        )
    free = [index for index, (_, _, allowed) in enumerate(items) if not allowed]
    if free:
        gw_free = [gateway["times"][i] * 1000 for i in free]
        zx_free = [zxing["times"][i] * 1000 for i in free]
        print(
            f"barcode-free photos: {len(free)}; gateway median {statistics.median(gw_free):.0f} "
            f"ms, p95 {percentile(gw_free, 0.95):.0f} ms (target <= 150), max "
            f"{max(gw_free):.0f} ms; zxing-cpp median {statistics.median(zx_free):.0f} ms, p95 "
            f"{percentile(zx_free, 0.95):.0f} ms; gateway reads on them: {gateway['free_reads']}"
        )
    all_ms = [t * 1000 for t in gateway["times"]]
    print(
        f"gateway per photo: median {statistics.median(all_ms):.0f} ms, p95 "
        f"{percentile(all_ms, 0.95):.0f} ms, max {max(all_ms):.0f} ms"
    )
    photo = photo_12mp()
    times = []
    for _ in range(args.latency_runs):
        start = time.perf_counter()
        read(photo)
        times.append(time.perf_counter() - start)
    print(
        f"12 MP photo latency: median {statistics.median(times) * 1000:.0f} ms, "
        f"p95 {percentile(times, 0.95) * 1000:.0f} ms ({args.latency_runs} runs)"
    )
    print(f"load average after the run: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
