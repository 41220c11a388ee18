"""Draw what was read onto the image: a box and a short label per symbol."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cv2
import numpy as np

from gateway.barcodes.symbol import Symbol

# Colour names callers use -> BGR. Green: verified, amber: needs a person, red: blocks.
_COLORS: dict[str, tuple[int, int, int]] = {
    "green": (40, 160, 40),
    "amber": (0, 170, 255),
    "red": (40, 40, 220),
    "blue": (200, 110, 20),
}
_DEFAULT = "blue"


def annotate(
    image: np.ndarray,
    symbols: Sequence[Symbol],
    colors: Mapping[int, str] | None = None,
    *,
    fmt: str = "png",
) -> bytes:
    """PNG (or JPEG with fmt="jpeg") bytes of `image` with a box and label around each symbol.

    Args:
        image: grayscale or BGR uint8 image the symbols were read from.
        symbols: symbols from `read`, quads in this image's pixels.
        colors: index in `symbols` -> "green", "amber" or "red"; blue when absent.
        fmt: "png" or "jpeg".
    """
    canvas = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    height, width = canvas.shape[:2]
    thickness = max(2, round(max(height, width) / 500))
    font_scale = max(0.5, max(height, width) / 1600)
    for index, symbol in enumerate(symbols):
        name = (colors or {}).get(index, _DEFAULT)
        color = _COLORS.get(name, _COLORS[_DEFAULT])
        points = np.array(symbol.quad, dtype=np.float32).round().astype(np.int32)
        cv2.polylines(canvas, [points.reshape(-1, 1, 2)], True, color, thickness, cv2.LINE_AA)
        label = f"{index + 1} {symbol.symbology}: {_short(symbol.text)}"
        x = int(points[:, 0].min())
        y = int(points[:, 1].min()) - thickness * 2
        (text_w, text_h), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1)
        y = max(y, text_h + base)
        x = min(max(x, 0), max(width - text_w, 0))
        cv2.rectangle(canvas, (x, y - text_h - base), (x + text_w, y + base), color, cv2.FILLED)
        cv2.putText(
            canvas,
            label,
            (x, y),
            cv2.FONT_HERSHEY_SIMPLEX,
            font_scale,
            (255, 255, 255),
            1,
            cv2.LINE_AA,
        )
    extension = ".jpg" if fmt.lower() in ("jpg", "jpeg") else ".png"
    ok, encoded = cv2.imencode(extension, canvas)
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 image it was given
        msg = f"Failed to encode the annotated image as {extension!r}."
        raise RuntimeError(msg)
    return bytes(encoded.tobytes())


def _short(text: str, limit: int = 32) -> str:
    # OpenCV's Hershey fonts draw ASCII only; show GS as "|" and cut long payloads.
    shown = "".join("|" if char == "\x1d" else char if char.isascii() else "?" for char in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "~"
