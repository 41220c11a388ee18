"""The reader: cheap path first, targeted views per unread region after.

1. zxing-cpp on the image as it is. Most labels end here.
2. Candidate regions (`regions.find_regions`) not yet covered by a read get views of their
   own, in order of cost: the crop turned so bars stand upright and rescaled; contrast
   normalised (CLAHE); sharpened; deconvolved for motion and defocus blur; binarised; ZBar as
   a second decoder for linear symbols. A region stops as soon as a read covers it.
3. Every read passes `accept` (check digits, code engine, agreement of views) and reads of
   one physical symbol are merged, with the quad mapped back to the original image.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np
import zxingcpp

from gateway.barcodes import _zbar, accept
from gateway.barcodes.deblur import deblur_views
from gateway.barcodes.regions import Region, find_regions
from gateway.barcodes.symbol import Symbol

_FORMATS = zxingcpp.BarcodeFormats(
    [
        zxingcpp.BarcodeFormat.Code128,
        zxingcpp.BarcodeFormat.DataMatrix,
        zxingcpp.BarcodeFormat.QRCode,
        zxingcpp.BarcodeFormat.EAN13,
        zxingcpp.BarcodeFormat.ITF,
    ]
)
_FAMILY_BY_AIM = {"C": "code128", "d": "datamatrix", "Q": "qrcode", "E": "ean13", "I": "itf"}
_MAX_ESCALATED_REGIONS = 8  # bounds the work on cluttered images (tables, text, hazard marks)
_TARGET_LINEAR_WIDTH = 700.0  # px across the bars after rescaling a linear region
_TARGET_MATRIX_SIDE = 260.0  # px of a matrix region after rescaling


@dataclass(slots=True)
class _View:
    """An image derived from the original, with the affine map back to original pixels."""

    name: str
    image: np.ndarray
    to_source: np.ndarray  # 2x3 affine: view pixels -> original pixels
    trusted: bool  # geometry and contrast only: nothing that can invent an edge


@dataclass(slots=True)
class _Read:
    text: str
    symbology_id: str | None
    family: str
    quad: np.ndarray  # 4x2 float32, original pixels
    view: str
    trusted: bool
    engine: str  # "zxing" or "zbar"
    zbar_gs1: bool = False


@dataclass(slots=True)
class _Cluster:
    """Reads of the same text at the same place: one physical symbol."""

    reads: list[_Read] = field(default_factory=list)

    @property
    def first(self) -> _Read:
        return self.reads[0]


def read(image: np.ndarray) -> list[Symbol]:
    """Every symbol on `image` (grayscale or BGR uint8), one `Symbol` per physical symbol.

    Never raises on image content: an image with no readable symbol gives [].
    """
    gray = _to_gray(image)
    if gray.size == 0 or min(gray.shape[:2]) < 8:
        return []
    identity = np.array([[1, 0, 0], [0, 1, 0]], np.float32)
    clusters: list[_Cluster] = []
    _add(clusters, _zxing(_View("original", gray, identity, True), try_invert=True))
    accepted = _accepted(clusters)

    regions = find_regions(gray)
    pending = [region for region in regions if not _covered(region, accepted)]
    for region in pending[:_MAX_ESCALATED_REGIONS]:
        for view in _region_views(gray, region):
            reads = _zxing(view) if view.name != "zbar" else _zbar_reads(view)
            if view.name.endswith("+zbar"):
                reads += _zbar_reads(view)
            if not reads:
                continue
            _add(clusters, reads)
            accepted = _accepted(clusters)
            if _covered(region, accepted):
                break
    return [_to_symbol(cluster) for cluster in _accepted(clusters)]


def _to_gray(image: np.ndarray) -> np.ndarray:
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    if array.ndim == 3 and array.shape[2] == 4:
        return cv2.cvtColor(array, cv2.COLOR_BGRA2GRAY)
    if array.ndim == 3 and array.shape[2] == 3:
        return cv2.cvtColor(array, cv2.COLOR_BGR2GRAY)
    if array.ndim == 3 and array.shape[2] == 1:
        return np.ascontiguousarray(array[:, :, 0])
    if array.ndim != 2:
        return np.zeros((0, 0), np.uint8)
    return np.ascontiguousarray(array)


# --- decoding -------------------------------------------------------------------------------


def _zxing(view: _View, *, try_invert: bool = False) -> list[_Read]:
    whole = view.name == "original"
    try:
        results = zxingcpp.read_barcodes(
            view.image,
            formats=_FORMATS,
            text_mode=zxingcpp.TextMode.Plain,
            try_rotate=True,
            try_downscale=whole,  # region views are already at the scale that suits them
            try_invert=try_invert,
        )
    except (RuntimeError, ValueError):  # a degenerate view; the others still run
        return []
    reads: list[_Read] = []
    for result in results:
        sid = result.symbology_identifier or None
        family = _FAMILY_BY_AIM.get(sid[1] if sid and len(sid) > 1 else "")
        if family is None:
            continue
        position = result.position
        corners = np.array(
            [
                [position.top_left.x, position.top_left.y],
                [position.top_right.x, position.top_right.y],
                [position.bottom_right.x, position.bottom_right.y],
                [position.bottom_left.x, position.bottom_left.y],
            ],
            np.float32,
        )
        quad = _map(corners, view.to_source)
        reads.append(_Read(result.text, sid, family, quad, view.name, view.trusted, "zxing"))
    return reads


def _zbar_reads(view: _View) -> list[_Read]:
    reads: list[_Read] = []
    for found in _zbar.read(view.image):
        points = np.array(found.points or [(0.0, 0.0)], np.float32)
        box = cv2.boxPoints(cv2.minAreaRect(points)) if len(points) >= 2 else points
        quad = _map(np.asarray(box, np.float32).reshape(-1, 2), view.to_source)
        sid = {"code128": "]C1" if found.gs1 else "]C0", "ean13": "]E0", "itf": "]I0"}
        # ZBar's view is never "trusted": its reads need the engine or a second view.
        reads.append(
            _Read(
                found.text,
                sid[found.family],
                found.family,
                quad,
                view.name + "/zbar",
                False,
                "zbar",
                found.gs1,
            )
        )
    return reads


def _map(points: np.ndarray, affine: np.ndarray) -> np.ndarray:
    ones = np.ones((points.shape[0], 1), np.float32)
    return np.asarray(np.hstack([points, ones]) @ affine.T, np.float32)


# --- views of one region --------------------------------------------------------------------


def _region_views(gray: np.ndarray, region: Region) -> Iterator[_View]:
    """Views of `region`, cheapest and safest first; generated lazily, so stopping is free."""
    width, height = region.size
    if region.linear:
        # Turn the region so the gradient is horizontal: bars upright, every row crosses all.
        rotation = region.angle
        scale = float(np.clip(_TARGET_LINEAR_WIDTH / max(width, 1.0), 1.0, 3.0))
    else:
        rotation = 0.0
        scale = float(np.clip(_TARGET_MATRIX_SIDE / max(min(width, height), 1.0), 1.0, 3.0))
    base = _warp(gray, region, rotation, 1.0)
    if base is None:
        return
    yield base
    big = _warp(gray, region, rotation, scale) if scale > 1.2 else None
    main = big or base
    if big is not None:
        yield big
    yield _derive(main, "clahe", _clahe(main.image), trusted=True)
    yield _derive(main, "unsharp+zbar", _unsharp(main.image, 1.0 * scale, 1.5), trusted=False)
    for name, image in deblur_views(main.image, linear=region.linear, scale=scale):
        yield _derive(main, name + "+zbar" if region.linear else name, image, trusted=False)
    yield _derive(main, "binarized+zbar", _binarize(main.image), trusted=False)


def _warp(gray: np.ndarray, region: Region, rotation: float, scale: float) -> _View | None:
    width, height = region.size
    margin = 0.25 * max(min(width, height), 24.0) + 12.0
    out_w = round((width + 2 * margin) * scale)
    out_h = round((height + 2 * margin) * scale)
    if region.linear:
        out_w, out_h = round((width + 4 * margin) * scale), round((height + 2 * margin) * scale)
    if out_w < 8 or out_h < 8 or out_w * out_h > 12_000_000:
        return None
    cx, cy = region.center
    forward = cv2.getRotationMatrix2D((cx, cy), rotation, scale)
    forward[0, 2] += out_w / 2 - cx
    forward[1, 2] += out_h / 2 - cy
    image = cv2.warpAffine(
        gray, forward, (out_w, out_h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    back = cv2.invertAffineTransform(forward).astype(np.float32)
    return _View(f"crop x{scale:.1f}", image, back, trusted=True)


def _derive(view: _View, name: str, image: np.ndarray, *, trusted: bool) -> _View:
    return _View(name, image, view.to_source, trusted)


def _clahe(image: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.createCLAHE(clipLimit=3.0, tileGridSize=(4, 4)).apply(image))


def _unsharp(image: np.ndarray, sigma: float, amount: float) -> np.ndarray:
    blurred = cv2.GaussianBlur(image, (0, 0), sigma)
    return np.asarray(cv2.addWeighted(image, 1 + amount, blurred, -amount, 0))


def _binarize(image: np.ndarray) -> np.ndarray:
    smooth = cv2.GaussianBlur(image, (0, 0), 1.0)
    block = max(15, (min(image.shape[:2]) // 8) | 1)
    return np.asarray(
        cv2.adaptiveThreshold(
            smooth, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, block, 5
        )
    )


# --- merging and accepting ------------------------------------------------------------------


def _center(quad: np.ndarray) -> np.ndarray:
    return np.asarray(quad.mean(axis=0), np.float32)


def _extent(quad: np.ndarray) -> float:
    spans = quad.max(axis=0) - quad.min(axis=0)
    return float(max(spans.max(), 1.0))


def _same_place(a: np.ndarray, b: np.ndarray) -> bool:
    distance = float(np.linalg.norm(_center(a) - _center(b)))
    return distance < 0.6 * max(_extent(a), _extent(b))


def _add(clusters: list[_Cluster], reads: list[_Read]) -> None:
    for item in reads:
        for cluster in clusters:
            if cluster.first.text == item.text and _same_place(cluster.first.quad, item.quad):
                cluster.reads.append(item)
                break
        else:
            clusters.append(_Cluster([item]))


def _kind(cluster: _Cluster) -> accept.Kind | None:
    first = cluster.first
    return accept.classify(first.symbology_id, first.family, first.text)


def _acceptable(cluster: _Cluster) -> bool:
    kind = _kind(cluster)
    text = cluster.first.text
    if kind is None or not accept.structurally_ok(kind, text):
        return False
    trusted = any(item.trusted for item in cluster.reads)
    views = len({item.view for item in cluster.reads})
    if accept.needs_engine(kind, text):
        if accept.engine_valid(cluster.first.symbology_id, kind, text):
            return True
        # A misprinted code is read the same way again; a misread rarely is.
        return trusted and views >= 2
    if kind.error_corrected:
        return True
    return trusted or views >= 2


def _accepted(clusters: list[_Cluster]) -> list[_Cluster]:
    candidates = [cluster for cluster in clusters if _acceptable(cluster)]
    # A processed view that reads other text where the unprocessed image read a symbol has
    # misread it; two processed views that disagree at one place cannot both be right.
    kept: list[_Cluster] = []
    for cluster in candidates:
        trusted = any(item.trusted for item in cluster.reads)
        rivals = [
            other
            for other in candidates
            if other is not cluster
            and other.first.text != cluster.first.text
            and _overlap(cluster.first.quad, other.first.quad)
        ]
        if trusted or not rivals:
            kept.append(cluster)
    return kept


def _overlap(a: np.ndarray, b: np.ndarray) -> bool:
    # Centre of one inside the other's bounding box.
    for inner, outer in ((a, b), (b, a)):
        cx, cy = _center(inner)
        low = outer.min(axis=0)
        high = outer.max(axis=0)
        if low[0] <= cx <= high[0] and low[1] <= cy <= high[1]:
            return True
    return False


def _covered(region: Region, clusters: list[_Cluster]) -> bool:
    corners = region.corners()
    axis_len = max(region.size)
    for cluster in clusters:
        quad = cluster.first.quad
        center = _center(quad)
        inside = cv2.pointPolygonTest(corners.reshape(-1, 1, 2), tuple(map(float, center)), False)
        if inside >= 0 and _extent(quad) >= 0.45 * axis_len * _cos_fit(region):
            return True
    return False


def _cos_fit(region: Region) -> float:
    # Axis-aligned extent of a rotated symbol is at least its length times |cos| or |sin|.
    theta = math.radians(region.angle)
    return max(abs(math.cos(theta)), abs(math.sin(theta)))


def _to_symbol(cluster: _Cluster) -> Symbol:
    kind = _kind(cluster)
    assert kind is not None
    # Prefer the quad of a read of the unprocessed image: views add interpolation error.
    best = next((item for item in cluster.reads if item.trusted), cluster.first)
    quad = tuple((round(float(x), 1), round(float(y), 1)) for x, y in best.quad)
    return Symbol(
        text=cluster.first.text,
        gs1=kind.gs1,
        symbology=kind.name,
        symbology_id=cluster.first.symbology_id,
        quad=quad,
    )


Transform = Callable[[np.ndarray], np.ndarray]
