"""Where barcodes may be: candidate regions from gradient structure, found once per image.

Bars of a linear symbol give strong gradients that all point one way (high coherence of the
structure tensor); the modules of a QR Code or DataMatrix give strong gradients in two
directions packed densely in a squarish area. Both are found on a downscaled copy with a
morphological close, so a 12 MP photo costs about what a 1 MP one does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

_WORK_SIDE = 900  # long side of the working copy, px
_MIN_SIDE_FRACTION = 0.025  # of the working copy's long side: smaller blobs are not symbols


@dataclass(frozen=True, slots=True)
class Region:
    """A place that looks like a symbol, in original image pixels."""

    center: tuple[float, float]
    size: tuple[float, float]  # width along `angle`, height across it
    angle: float  # degrees: direction of the gradient, i.e. across the bars of a linear symbol
    linear: bool  # coherent gradients: a linear symbol (else a matrix symbol or clutter)
    score: float  # higher is more barcode-like

    def corners(self) -> np.ndarray:
        """The 4 corners (float32, shape 4x2) of the region in image pixels."""
        box = cv2.boxPoints((self.center, self.size, self.angle))
        return np.asarray(box, dtype=np.float32)


def find_regions(gray: np.ndarray, limit: int = 12) -> list[Region]:
    """Candidate symbol regions, most barcode-like first, at most `limit`."""
    height, width = gray.shape[:2]
    scale = min(1.0, _WORK_SIDE / max(height, width))
    small = (
        cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if scale < 1.0
        else gray
    )
    small_f = small.astype(np.float32)
    gx = cv2.Sobel(small_f, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(small_f, cv2.CV_32F, 0, 1, ksize=3)
    window = (7, 7)
    jxx = cv2.blur(gx * gx, window)
    jyy = cv2.blur(gy * gy, window)
    jxy = cv2.blur(gx * gy, window)
    energy = jxx + jyy
    coherence = np.sqrt((jxx - jyy) ** 2 + 4 * jxy**2) / (energy + 1e-3)

    # Strong texture, thresholded by Otsu on this image: robust to exposure and contrast.
    magnitude = np.sqrt(energy)
    scaled = np.clip(magnitude * (255.0 / max(float(magnitude.max()), 1.0)), 0, 255)
    otsu, _ = cv2.threshold(scaled.astype(np.uint8), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    strong = scaled > max(otsu, 20.0)
    long_side = max(small.shape[:2])
    close = max(3, round(long_side / 130)) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (close, close))
    # Bars: coherent gradients only, so printed text next to a symbol does not join it.
    linear_mask = (strong & (coherence > 0.75)).astype(np.uint8) * 255
    matrix_mask = (strong & (coherence <= 0.75)).astype(np.uint8) * 255
    regions: list[Region] = []
    min_side = long_side * _MIN_SIDE_FRACTION
    for linear, raw in ((True, linear_mask), (False, matrix_mask)):
        mask = cv2.morphologyEx(raw, cv2.MORPH_CLOSE, kernel)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            region = _region(contour, linear, min_side, (jxx, jyy, jxy), raw)
            if region is not None:
                regions.append(_scaled(region, scale))
    regions.sort(key=lambda region: region.score, reverse=True)
    return regions[:limit]


def _region(
    contour: np.ndarray,
    linear: bool,
    min_side: float,
    tensor: tuple[np.ndarray, np.ndarray, np.ndarray],
    raw: np.ndarray,
) -> Region | None:
    (cx, cy), (w, h), _ = cv2.minAreaRect(contour)
    if min(w, h) < min_side:
        return None
    aspect = max(w, h) / max(min(w, h), 1.0)
    fill = float(cv2.contourArea(contour)) / max(w * h, 1.0)
    if not linear:
        # Matrix symbols are squarish and solid; text lines and table rules are neither.
        if aspect > 1.6 or fill < 0.6:
            return None
        return Region((cx, cy), (w, h), 0.0, False, fill)
    blob = np.zeros(raw.shape[:2], np.uint8)
    cv2.drawContours(blob, [contour], -1, 255, cv2.FILLED)
    inside = blob > 0
    if float((raw[inside] > 0).mean()) < 0.4:
        return None  # sparse strokes joined by the close: a paper edge or a text block
    sxx, syy, sxy = (float(j[inside].sum()) for j in tensor)
    coh = math.sqrt((sxx - syy) ** 2 + 4 * sxy**2) / (sxx + syy + 1e-3)
    if coh < 0.6:
        return None  # gradients of several directions: hatching, a photo edge, clutter
    angle = 0.5 * math.degrees(math.atan2(2 * sxy, sxx - syy))
    across, along, (cx, cy) = _oriented_size(contour, angle)
    if across < 3 * min_side or along < min_side:
        return None  # a handful of bars: a rule, a border or a letter stroke, not a symbol
    return Region((cx, cy), (across, along), angle, True, coh)


def _scaled(region: Region, scale: float) -> Region:
    cx, cy = region.center
    w, h = region.size
    return Region(
        (cx / scale, cy / scale), (w / scale, h / scale), region.angle, region.linear, region.score
    )


def _oriented_size(contour: np.ndarray, angle: float) -> tuple[float, float, tuple[float, float]]:
    # Extent of the contour along the gradient direction and across it, and its centre.
    theta = math.radians(angle)
    axis = np.array([math.cos(theta), math.sin(theta)], np.float32)
    normal = np.array([-axis[1], axis[0]], np.float32)
    points = contour.reshape(-1, 2).astype(np.float32)
    along = points @ axis
    across = points @ normal
    mid_a = (float(along.max()) + float(along.min())) / 2
    mid_n = (float(across.max()) + float(across.min())) / 2
    center = axis * mid_a + normal * mid_n
    size = (float(along.max() - along.min()), float(across.max() - across.min()))
    return size[0], size[1], (float(center[0]), float(center[1]))
