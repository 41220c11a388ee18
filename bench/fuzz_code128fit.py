"""Wrong-read hunt for the Code 128 model fit, on blurred scan-line profiles with known truth.

    .venv/bin/python bench/fuzz_code128fit.py [--count 300] [--seed 1]

Each case is one profile: a Code 128 / GS1-128 symbol (its text is the truth), an EAN-13 or
ITF-14 symbol, or random bars (for those three, any read is wrong), drawn by the project's
sample generator at 1-3 px per module and a non-integer view scale, blurred across the bars by
a box of 2-4.5 modules (70 %) or a Gaussian, with a random contrast, a glare spot on a third of
them and sensor noise. As in the reader, the two best-ranked kernels of
`profiles.rank_kernels` are each given to `code128fit.decode`. Prints right, wrong and
unread counts and the decode time; a wrong read makes the exit status 1.
"""

from __future__ import annotations

import argparse
import sys
import time

import cv2
import numpy as np

from gateway.barcodes import code128fit, profiles
from gateway.gs1 import check_digit
from samples.labels import LabelCode, random_codes, symbol_image


def _case(rng: np.random.Generator) -> tuple[np.ndarray, str | None, str]:
    """(profile, the text a read must give or None when nothing may be read, kind)."""
    kind = str(rng.choice(["code128", "code128", "ean13", "itf14", "random"]))
    module = int(rng.integers(1, 4))
    want: str | None = None
    if kind == "code128":
        options = [c for c in random_codes(rng) if c[0].symbology in ("gs1-128", "code128")]
        if not options:
            text = "".join(rng.choice(list("0123456789ABCDEFGHJKLMNPRSTVWXY"), 24))
            options = [(LabelCode(text, False, "code128"), text)]
        code, source = options[0]
        want = code.text
        image = symbol_image(code, source, module)
    elif kind in ("ean13", "itf14"):
        digits = "".join(str(d) for d in rng.integers(0, 10, 12 if kind == "ean13" else 13))
        code = LabelCode(digits + check_digit(digits), False, kind)
        image = symbol_image(code, code.text, module)
    else:
        widths = rng.integers(1, 5, size=int(rng.integers(40, 200))) * module
        row = np.concatenate(
            [np.full(int(w), 0 if i % 2 == 0 else 255, np.uint8) for i, w in enumerate(widths)]
        )
        image = np.tile(np.pad(row, 20 * module, constant_values=255), (40, 1))
    scale = float(rng.uniform(1.0, 2.2))
    image = cv2.resize(image, None, fx=scale, fy=1, interpolation=cv2.INTER_CUBIC)
    middle = image.shape[0] // 2
    profile = image[middle - 5 : middle + 5].astype(np.float64).mean(axis=0)
    if rng.random() < 0.7:
        taps = profiles.kernel("box", float(rng.uniform(2, 4.5)) * module, scale)
    else:
        taps = profiles.kernel("gauss", float(rng.uniform(0.6, 1.6)) * module, scale)
    padded = np.pad(profile, taps.size, mode="edge")
    profile = np.convolve(padded, taps, mode="same")[taps.size : -taps.size]
    low, high = rng.uniform(0, 90), rng.uniform(160, 255)
    profile = low + (high - low) * profile / 255
    if rng.random() < 0.3:
        x = np.arange(profile.size)
        center, width = rng.uniform(0, profile.size), rng.uniform(50, 300)
        profile = profile + (255 - profile) * 0.7 * np.exp(-(((x - center) / width) ** 2))
    profile = profile + rng.normal(0, rng.uniform(1, 8), profile.size)
    return np.pad(profile, 60, mode="edge").astype(np.float32), want, kind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    counts = {"right": 0, "wrong": 0, "unread": 0, "refused (not Code 128)": 0}
    wrong: list[tuple[str, str | None, str]] = []
    times: list[float] = []
    for _ in range(args.count):
        profile, want, kind = _case(rng)
        ranked = profiles.rank_kernels([profile], 1.0).kernels
        for name, size, _nsr in ranked[:2]:
            start = time.perf_counter()
            found = code128fit.decode(profile, profiles.kernel(name, size, 1.0))
            times.append(time.perf_counter() - start)
            if found is None:
                counts["unread" if want is not None else "refused (not Code 128)"] += 1
            elif found.text == want:
                counts["right"] += 1
            else:
                counts["wrong"] += 1
                wrong.append((kind, want, found.text))
    print(f"{args.count} profiles, {len(times)} decodes (two kernels each), seed {args.seed}")
    for name, value in counts.items():
        print(f"  {name:24} {value}")
    print(
        f"decode time: median {1000 * float(np.median(times)):.0f} ms, "
        f"p95 {1000 * float(np.percentile(times, 95)):.0f} ms"
    )
    for item in wrong[:20]:
        print("WRONG", item)
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
