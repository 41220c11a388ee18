"""The reader: cheap path first, targeted views per unread region after.

1. zxing-cpp on the image as it is (one call, all five symbologies). Most labels end here.
2. Candidate regions (`regions.find_regions`: a coarse search first when something was read,
   which settles a photo whose every region a read explains) not yet covered by an accepted
   read escalate, round robin under a step budget, each stopping as soon as it is covered:
   for a linear symbol the crop turned so the bars stand upright (zxing-cpp and ZBar, which
   is strong on blurred bars), then scan-line profiles averaged along the bars, contrast
   flattened, and deblurred across them by a bank of 1-D kernels (`profiles`); for a matrix
   symbol the crop rescaled, smoothed, sharpened, deconvolved for defocus and motion,
   binarised.
   (ZBar on the whole image was measured: one more code on the development set for a third
   more time per image, so it reads crops only.)
3. Every read passes `accept` (check digits, code engine, agreement of views) and reads of
   one physical symbol are merged, with the quad mapped back to the original image.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np
import zxingcpp

from gateway.barcodes import _zbar, accept, code128fit, profiles
from gateway.barcodes.deblur import defocus_views, estimate_motion, motion_views
from gateway.barcodes.limits import READ_BUDGET_S
from gateway.barcodes.regions import Region, find_regions, is_squarish, looks_textured
from gateway.barcodes.symbol import Conflict, LabelRead, Quad, Symbol, UnreadRegion

_F = zxingcpp.BarcodeFormat
# `DataBar` is the whole family: Omnidirectional, Stacked (Omnidirectional), Limited,
# Expanded and Expanded Stacked.
_FORMATS = zxingcpp.BarcodeFormats(
    [_F.Code128, _F.DataMatrix, _F.QRCode, _F.EAN13, _F.ITF, _F.DataBar]
)
_LINEAR = zxingcpp.BarcodeFormats([_F.Code128, _F.EAN13, _F.ITF, _F.DataBar])
_MATRIX = zxingcpp.BarcodeFormats([_F.DataMatrix, _F.QRCode])
_DATABAR = zxingcpp.BarcodeFormats([_F.DataBar])
_FAMILY_BY_AIM = {
    "C": "code128",
    "d": "datamatrix",
    "Q": "qrcode",
    "E": "ean13",
    "I": "itf",
    "e": "databar",
}
# The DataBar form zxing-cpp reports, as the product names it (all share the identifier ]e0).
_DATABAR_FORMS = {
    _F.DataBarOmni: "gs1-databar",
    _F.DataBarStk: "gs1-databar-stacked",
    _F.DataBarStkOmni: "gs1-databar-stacked",
    _F.DataBarLtd: "gs1-databar-limited",
    _F.DataBarExp: "gs1-databar-expanded",
    _F.DataBarExpStk: "gs1-databar-expanded-stacked",
}
_GS1 = zxingcpp.ContentType.GS1
# A DataBar read whose surroundings have this share of its edges and tonal spread or more is
# read from a texture, not from a printed symbol (`_stands_out`).
_STANDS_OUT_ALIKE = 0.9
_STANDS_OUT_MIN_PX = 64
_GS1_DM = ("]d2", "]d5")  # FNC1 first, without or with ECI
_ZBAR_AIM = {"code128": ("]C0", "]C1"), "ean13": ("]E0", "]E0"), "itf": ("]I0", "]I0")}
_MAX_ESCALATED_REGIONS = 8  # bounds the work on cluttered images (tables, text, hazard marks)
# Bounds the latency of an image whose regions stay unread (text, hatching, damaged symbols).
_MAX_ESCALATION_STEPS = 40
_TARGET_LINEAR_WIDTH = 1000.0  # px across the bars after rescaling a linear region
_TARGET_MATRIX_SIDE = 260.0  # px of a matrix region after rescaling
# Longest side of a matrix crop deconvolved for motion: a larger one is scaled down (and the
# motion length with it). 25 deconvolutions of a whole-photo "region" cost seconds.
_MAX_DECONVOLVED_SIDE = 320.0
_MAX_MATRIX_VIEW_SIDE = 640.0  # longest side of any other view of a matrix region, px
_FIT_KERNELS = 2  # best-ranked blur kernels a Code 128 model fit is tried with
_RESTORED_KERNELS = 4  # best-ranked blur kernels the bands are deconvolved by
# A small photo left with unexplained regions is read whole once more, enlarged (cubic):
# at most 3x, to at most 3 MP, and only when that enlarges it at least 2x.
_UPSCALE = 3.0
_MIN_UPSCALE = 2.0
_MAX_UPSCALED_PIXELS = 3_000_000
_IDENTITY = np.array([[1, 0, 0], [0, 1, 0]], np.float32)
# On a page, a region whose dark-to-light steps span fewer pixels than this is sharp: it
# gets no deblurring views (`_blurred`).
_BLURRED_EDGE_PX = 2.5


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
    form: str | None = None  # the DataBar form, which the identifier ]e0 does not tell


@dataclass(slots=True)
class _Cluster:
    """Reads of the same text at the same place: one physical symbol."""

    reads: list[_Read] = field(default_factory=list)

    @property
    def first(self) -> _Read:
        return self.reads[0]


def read(image: np.ndarray, *, budget_s: float | None = READ_BUDGET_S) -> list[Symbol]:
    """Every symbol on `image` (grayscale or BGR uint8), one `Symbol` per physical symbol.

    Never raises on image content: an image with no readable symbol gives []. Symbols whose
    reads conflict are left out (see `read_labels`, which reports them).
    """
    return read_labels(image, budget_s=budget_s).symbols


def read_labels(
    image: np.ndarray, *, budget_s: float | None = READ_BUDGET_S, page: bool = False
) -> LabelRead:
    """The symbols on `image`, the conflicting reads and the candidate regions left unread.

    `budget_s` bounds the time spent on the photo: once it has passed, escalation stops
    (the step under way finishes) and the regions not yet read are reported in `unread` with
    the reason "time budget". None means no time limit (the step budget still holds).

    `page`: the image is a rendered document page (a scanned PDF page, an image of a printed
    page), which costs only what it shows: when neither the whole-image read nor the coarse
    region search finds anything, it is settled there; and only a region whose edges are
    blurred (`_blurred`) is given the deblurring views, which a page's sharp print and
    blocks of text cost most of the time for nothing.
    """
    start = time.perf_counter()
    deadline = math.inf if budget_s is None else start + budget_s
    gray = _to_gray(image)
    if gray.size == 0 or min(gray.shape[:2]) < 8:
        return LabelRead([], [], [], 0.0, False)
    original = _View("original", gray, _IDENTITY, True)
    clusters: list[_Cluster] = []
    _add(clusters, _zxing(original, _FORMATS, whole=True, rotate=page))
    accepted = _accepted(clusters)

    # A photo whose every region the whole-image read explains is settled by the coarse
    # region search (half the time of the full one); any region left, or no read at all,
    # takes the full search, whose regions the escalation's views are cut from. (The coarse
    # search can miss a faint symbol's region: a DataMatrix under strong motion blur.)
    # A page with no read is searched coarsely first too: a page of text alone usually shows
    # no region there, and is settled without the full search and the escalation of its
    # blocks of text.
    # A label photo is read whole without zxing-cpp's rotated pass (two thirds of the whole
    # read's time on a textured surface): the photo is read turned a quarter only when a
    # region left unexplained has bars along the rows, which the upright pass cannot cross.
    regions = (
        find_regions(gray, coarse=True, explained=lambda region: _covered(region, accepted))
        if accepted or page
        else []
    )
    pending = [region for region in regions if not _explained(gray, region, accepted)]
    rotated = page  # a page's whole read keeps zxing-cpp's rotated pass
    if not rotated and _turn_needed(gray, pending):
        rotated = True
        accepted = _read_turned(original, clusters)
        pending = [region for region in pending if not _explained(gray, region, accepted)]
    if (not accepted and not page) or pending:
        regions = find_regions(gray)
        pending = [region for region in regions if not _explained(gray, region, accepted)]
        if not rotated and _turn_needed(gray, pending):
            accepted = _read_turned(original, clusters)
            pending = [region for region in pending if not _explained(gray, region, accepted)]
    if (pending or not accepted) and (upscaled := _upscaled(original)) is not None:
        # A low-resolution photo: modules of a pixel or less, which the whole-image read
        # misses and a region may not even show. Read once more at three times the size.
        _add(clusters, _zxing(upscaled, _FORMATS, whole=True))
        accepted = _accepted(clusters)
        pending = [region for region in pending if not _covered(region, accepted)]
    # Round robin over the regions: every region gets its cheap views before any region gets
    # the deblurring banks, so the step budget goes where reads are likeliest. When the cheap
    # reads explain every region, nothing escalates.
    motion = functools.cache(lambda: estimate_motion(gray))  # once per photo, on first use
    active = [
        (
            region,
            _linear_steps(gray, region, deadline, deblur=deblur, texture=texture)
            if region.linear
            else _matrix_steps(gray, region, motion, deblur=deblur),
        )
        for region in pending[:_MAX_ESCALATED_REGIONS]
        for texture in (_texture(gray, region),)
        for deblur in ((not page or _blurred(gray, region)) and not texture,)
    ]
    reasons = {id(region): "region limit" for region in pending[_MAX_ESCALATED_REGIONS:]}
    budget = _MAX_ESCALATION_STEPS
    out_of_time = False
    while active:
        if budget <= 0 or time.perf_counter() >= deadline:
            out_of_time = budget > 0
            for region, _ in active:
                reasons[id(region)] = "time budget" if out_of_time else "step budget"
            break
        still: list[tuple[Region, Iterator[list[_Read]]]] = []
        for region, steps in active:
            if _covered(region, accepted):
                continue
            if budget <= 0 or time.perf_counter() >= deadline:
                still.append((region, steps))  # reported as left unread above
                continue
            reads = next(steps, None)
            budget -= 1
            if reads is None:
                reasons[id(region)] = "not decoded"
                continue
            still.append((region, steps))
            if reads:
                _add(clusters, reads)
                accepted = _accepted(clusters)
        active = still
    linear_regions = [region for region in regions if region.linear]
    symbols = [_to_symbol(cluster, linear_regions) for cluster in accepted]
    symbols = accept.consistent(symbols, [_trusted(c) for c in accepted])
    unread = [
        UnreadRegion(_quad(region.corners()), "linear" if region.linear else "matrix", reason)
        for region in pending
        if (reason := reasons.get(id(region))) is not None and not _covered(region, accepted)
    ]
    conflicts = _conflicts(clusters, linear_regions)
    elapsed_ms = (time.perf_counter() - start) * 1000
    return LabelRead(symbols, conflicts, unread, round(elapsed_ms, 1), out_of_time)


def _blurred(gray: np.ndarray, region: Region) -> bool:
    """True when the region's edges are soft: a step from dark to light spans
    `_BLURRED_EDGE_PX` pixels or more.

    The width of an edge is the region's contrast (2nd to 98th percentile) over its steepest
    change between neighbouring pixels (99.5th percentile, either way). Rendered and scanned
    pages at 200 dpi measured 1.2-2.2 px, print and text alike; defocused or shaken label
    photos 2.8-4.9 px.
    """
    height, width = gray.shape[:2]
    corners = region.corners()
    x0, y0 = (max(int(v), 0) for v in corners.min(axis=0))
    x1, y1 = (
        int(min(float(corners[:, 0].max()) + 1, width)),
        int(min(float(corners[:, 1].max()) + 1, height)),
    )
    if x1 - x0 < 4 or y1 - y0 < 4:
        return True  # too small to tell: every view
    cut = gray[y0:y1, x0:x1].astype(np.float32)
    low, high = np.percentile(cut, (2, 98))
    steps = np.concatenate(
        [np.abs(np.diff(cut, axis=1)).ravel(), np.abs(np.diff(cut, axis=0)).ravel()]
    )
    steepest = max(float(np.percentile(steps, 99.5)), 1.0)
    return float(high - low) / steepest >= _BLURRED_EDGE_PX


def _texture(gray: np.ndarray, region: Region) -> bool:
    """A linear region that looks like a textured surface, not a symbol (`looks_textured`):
    it gets the crop's read and its plain profiles only, and does not turn the photo a
    quarter (`_turn_needed`). Wood grain's patches escalated through every view, the
    deblurring banks and the model fit included (140-275 ms of CPU a photo), for nothing."""
    return region.linear and looks_textured(gray, region)


def _turn_needed(gray: np.ndarray, pending: list[Region]) -> bool:
    """True when a region left unexplained has bars along the rows (`_along_rows`) and is
    not texture (`_texture`)."""
    return any(_along_rows(region) and not _texture(gray, region) for region in pending)


def _read_turned(original: _View, clusters: list[_Cluster]) -> list[_Cluster]:
    """The accepted clusters once the photo, turned a quarter, is read whole again: the pass
    of zxing-cpp's `try_rotate` that the first whole read left out."""
    _add(clusters, _zxing(_turned(original), _FORMATS, whole=True, rotate=False))
    return _accepted(clusters)


def _along_rows(region: Region) -> bool:
    """True for a linear region whose bars lie along the image rows (within 45 degrees)."""
    return region.linear and abs((region.angle + 90.0) % 180.0 - 90.0) > 45.0


def _turned(view: _View) -> _View:
    """The view turned a quarter clockwise, so that bars along its rows stand upright."""
    height = view.image.shape[0]
    image = cv2.rotate(view.image, cv2.ROTATE_90_CLOCKWISE)
    # Turned pixel (u, v) is source pixel (v, height - 1 - u).
    turn = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, height - 1.0]], np.float32)
    back = _compose(view.to_source, turn)
    # Named as the view: the same photo seen again is no second view of a symbol.
    return _View(view.name, image, back, view.trusted)


def _compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The 2x3 affine `outer` after `inner`."""
    full = np.vstack([outer, [0.0, 0.0, 1.0]]) @ np.vstack([inner, [0.0, 0.0, 1.0]])
    return np.asarray(full[:2], np.float32)


def _upscaled(view: _View) -> _View | None:
    """The photo enlarged up to three times when it is small (0.75 MP at most), else None."""
    height, width = view.image.shape[:2]
    factor = min(_UPSCALE, math.sqrt(_MAX_UPSCALED_PIXELS / max(height * width, 1)))
    if factor < _MIN_UPSCALE:
        return None
    image = cv2.resize(view.image, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
    # Pixel centres: source x = (x + 0.5) / factor - 0.5.
    shift = 0.5 / factor - 0.5
    back = np.array([[1 / factor, 0, shift], [0, 1 / factor, shift]], np.float32)
    # Named as the original: the same photo seen whole again is no second view of a symbol
    # (an engine-invalid read needs two views to pass as a misprint).
    return _View(view.name, image, back, trusted=True)


def _quad(points: np.ndarray) -> Quad:
    return tuple((round(float(x), 1), round(float(y), 1)) for x, y in points)


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


def _zx_results(
    image: np.ndarray,
    formats: zxingcpp.BarcodeFormats,
    *,
    whole: bool = False,
    rotate: bool = True,
) -> list[zxingcpp.Barcode]:
    try:
        return list(
            zxingcpp.read_barcodes(
                image,
                formats=formats,
                text_mode=zxingcpp.TextMode.Plain,  # keeps FNC1 separators as GS
                try_rotate=rotate,
                try_downscale=whole,  # region views are already at the scale that suits them
                try_invert=whole,
            )
        )
    except (RuntimeError, ValueError):  # a degenerate view; the others still run
        return []


def _corners(result: zxingcpp.Barcode) -> np.ndarray:
    position = result.position
    return np.array(
        [
            [position.top_left.x, position.top_left.y],
            [position.top_right.x, position.top_right.y],
            [position.bottom_right.x, position.bottom_right.y],
            [position.bottom_left.x, position.bottom_left.y],
        ],
        np.float32,
    )


def _family(symbology_id: str | None) -> str | None:
    return _FAMILY_BY_AIM.get(symbology_id[1] if symbology_id and len(symbology_id) > 1 else "")


def _zxing(
    view: _View, formats: zxingcpp.BarcodeFormats, *, whole: bool = False, rotate: bool = True
) -> list[_Read]:
    reads: list[_Read] = []
    for result in _zx_results(view.image, formats, whole=whole, rotate=rotate):
        sid = result.symbology_identifier or None
        family = _family(sid)
        if family is None:
            continue
        if family == "datamatrix" and result.content_type == _GS1 and sid not in _GS1_DM:
            # zxing-cpp gives the rectangular extension sizes (DMRE) their own modifier
            # (]d8 with FNC1 first); GS1 names one identifier for GS1 DataMatrix, ]d2.
            sid = "]d2"
        corners = _corners(result)
        if family == "databar" and not _stands_out(view.image, corners):
            continue
        quad = _map(corners, view.to_source)
        form = _DATABAR_FORMS.get(result.format) if family == "databar" else None
        reads.append(_Read(result.text, sid, family, quad, view.name, view.trusted, form))
    return reads


def _stands_out(gray: np.ndarray, corners: np.ndarray) -> bool:
    """False when the place of a read looks like its surroundings: as many edges and as wide
    a spread of tones around it, out to half its size, as inside it.

    A printed symbol stands out from the label around it. A fine periodic texture (a
    hatched or woven surface) does not, and zxing-cpp can decode a GS1 DataBar from it whose
    check characters hold by chance; DataBar's checksum is too weak to tell. `gray` is a
    view's image, grayscale like every view.
    """
    points = np.round(corners).astype(np.int32)
    x, y, w, h = cv2.boundingRect(points)
    margin = max(w, h) // 2
    x0, y0 = max(x - margin, 0), max(y - margin, 0)
    x1, y1 = min(x + w + margin, gray.shape[1]), min(y + h + margin, gray.shape[0])
    crop = gray[y0:y1, x0:x1].astype(np.int16)
    if crop.shape[0] < 3 or crop.shape[1] < 3:
        return True
    inside = np.zeros(crop.shape, np.uint8)
    cv2.fillPoly(inside, [points - np.array([x0, y0], np.int32)], 1)
    steps = np.abs(np.diff(crop, axis=1))[:-1, :] + np.abs(np.diff(crop, axis=0))[:, :-1]
    within = inside[:-1, :-1] > 0
    if within.sum() < _STANDS_OUT_MIN_PX or (~within).sum() < _STANDS_OUT_MIN_PX:
        return True  # the symbol fills the image, or the read is a sliver: nothing to compare
    tones_in = crop[:-1, :-1][within]
    tones_out = crop[:-1, :-1][~within]
    spread_in = float(np.percentile(tones_in, 95) - np.percentile(tones_in, 5))
    spread_out = float(np.percentile(tones_out, 95) - np.percentile(tones_out, 5))
    edges_in = float(steps[within].mean())
    edges_out = float(steps[~within].mean())
    return not (
        edges_out >= _STANDS_OUT_ALIKE * edges_in and spread_out >= _STANDS_OUT_ALIKE * spread_in
    )


def _zbar_reads(crop: _View, box: tuple[float, float, float, float]) -> list[_Read]:
    """ZBar's reads of a linear region's upright crop, placed as `_placed` places them when
    they lie on the region's rows.

    ZBar reports the ends of the scan lines that decoded: for a symbol read one way, points
    down one end of it and one at the other end, whose hull (a thin triangle) turned into a
    rectangle lies across the symbol and far beyond it, over its neighbours.
    """
    reads: list[_Read] = []
    _, top, _, bottom = box
    for found in _zbar.read(crop.image):
        points = np.array(found.points or [(0.0, 0.0)], np.float32).reshape(-1, 2)
        (left, upper), (right, lower) = points.min(axis=0), points.max(axis=0)
        if lower < top or upper > bottom:
            # Scan lines beside the region's rows, in the cut's margin: another symbol, placed
            # where ZBar read it.
            corners = np.array([[left, upper], [right, upper], [right, lower], [left, lower]])
            quad = _map(corners.astype(np.float32), crop.to_source)
        else:
            quad = _placed(float(left), float(right), crop, box)
        sid = _ZBAR_AIM[found.family][found.gs1]
        # ZBar's reads are never "trusted": they need the engine and a second view.
        reads.append(_Read(found.text, sid, found.family, quad, "zbar:" + crop.name, False))
    return reads


def _placed(
    left: float, right: float, crop: _View, box: tuple[float, float, float, float]
) -> np.ndarray:
    """The quad in original pixels of a read spanning `left` to `right` across the bars of an
    upright crop, over the bar height of `box` (the symbol's left, top, right, bottom in the
    crop). A degenerate span (a point or a sliver, as a decoder may report for a short drawn
    image) is placed over the whole symbol."""
    extent_left, top, extent_right, bottom = box
    if right - left < 0.25 * (extent_right - extent_left):
        left, right = extent_left, extent_right
    corners = np.array([[left, top], [right, top], [right, bottom], [left, bottom]], np.float32)
    return _map(corners, crop.to_source)


def _map(points: np.ndarray, affine: np.ndarray) -> np.ndarray:
    ones = np.ones((points.shape[0], 1), np.float32)
    return np.asarray(np.hstack([points, ones]) @ affine.T, np.float32)


# --- escalation steps of one region ---------------------------------------------------------


def _linear_steps(
    gray: np.ndarray,
    region: Region,
    deadline: float = math.inf,
    *,
    deblur: bool = True,
    texture: bool = False,
) -> Iterator[list[_Read]]:
    """Reads from views of a linear region, cheapest first; lazily, so stopping is free.

    The Code 128 model fit, the one step that can take long, stops at `deadline`.
    `deblur=False` (a sharp region of a page) ends before the deconvolved bands and the fit;
    `texture=True` (`_texture`) after the plain profiles.
    """
    width, height = region.size
    # Turn the region so the gradient is horizontal: bars upright, every row crosses all.
    scale = float(np.clip(_TARGET_LINEAR_WIDTH / max(width, 1.0), 1.0, 3.0))
    crop = _warp(gray, region, region.angle, scale)
    if crop is None:
        return
    middle = crop.image.shape[0] / 2
    top, bottom = middle - height * scale / 2, middle + height * scale / 2
    centre = crop.image.shape[1] / 2
    box = (centre - width * scale / 2, top, centre + width * scale / 2, bottom)
    yield _zxing(crop, _LINEAR) + _zbar_reads(crop, box)
    bands = profiles.band_profiles(crop.image, top, bottom)
    yield [
        read
        for index, profile in enumerate(bands)
        for read in _profile_reads(profile, crop, box, f"profile{index}")
    ]
    if texture:
        return
    yield [
        read
        for index, profile in enumerate(bands)
        for read in _profile_reads(profiles.normalised(profile, scale), crop, box, f"flat{index}")
    ]
    # A wider glare spot: contrast flattened over a longer stretch, quiet zones kept quieter.
    yield [
        read
        for index, profile in enumerate(bands)
        for read in _profile_reads(
            profiles.normalised(profile, scale, modules=25.0, floor_share=0.3),
            crop,
            box,
            f"wide-flat{index}",
        )
    ]
    # Uneven light along the bars' row: measured down from the paper, quiet zones stay light.
    yield [
        read
        for index, profile in enumerate(bands)
        for read in _profile_reads(
            profiles.paper_referenced(profile, scale), crop, box, f"paper{index}"
        )
    ]
    if not bands or not deblur:
        return
    ranking = profiles.rank_kernels(bands, scale)
    for name, restored in ranking.restore(_RESTORED_KERNELS):
        yield [
            read
            for index, profile in enumerate(restored)
            for read in _profile_reads(profile, crop, box, f"{name}/band{index}")
        ]
    # Last, for Code 128 blurred past what deconvolution restores: a model fitted to the
    # raw bands with the best kernels (the middle band first; the others only if it reads).
    # Not where the bands cross different bars: rows of a stacked symbol (DataBar), never
    # a Code 128, and the fit would spend its time on them for nothing.
    if not profiles.bands_agree(bands):
        return
    middle = len(bands) // 2
    for kind, size, _ in ranking.kernels[:_FIT_KERNELS]:
        taps = profiles.kernel(kind, size, scale)
        first = code128fit.decode(bands[middle], taps, deadline=deadline)
        if first is None:
            yield []
            continue
        found = [(middle, first)]
        for index, band in enumerate(bands):
            if index != middle:
                other = code128fit.decode(band, taps, count=first.count, deadline=deadline)
                if other is not None:
                    found.append((index, other))
        yield [
            _fit_read(fit, crop, top, bottom, f"fit-{kind}{size:g}/band{index}")
            for index, fit in found
        ]


def _fit_read(fit: code128fit.FitRead, crop: _View, top: float, bottom: float, name: str) -> _Read:
    corners = np.array(
        [[fit.left, top], [fit.right, top], [fit.right, bottom], [fit.left, bottom]], np.float32
    )
    return _Read(fit.text, fit.symbology_id, "code128", _map(corners, crop.to_source), name, False)


def _profile_reads(
    profile: np.ndarray, crop: _View, box: tuple[float, float, float, float], name: str
) -> list[_Read]:
    """Reads of a profile drawn as an image; `box` is the symbol's (left, top, right, bottom)
    in the view. A read whose reported position is degenerate (a point or a sliver, as a
    decoder may give for a short drawn image) is placed over the whole symbol."""
    image = profiles.draw(profile)
    spans: list[tuple[str, str | None, str, str | None, float, float]] = []
    for result in _zx_results(image, _LINEAR):
        sid = result.symbology_identifier or None
        family = _family(sid)
        if family is not None:
            xs = _corners(result)[:, 0]
            form = _DATABAR_FORMS.get(result.format) if family == "databar" else None
            spans.append((result.text, sid, family, form, float(xs.min()), float(xs.max())))
    for found in _zbar.read(image):
        xs = np.array([x for x, _ in found.points] or [0.0], np.float32)
        sid = _ZBAR_AIM[found.family][found.gs1]
        spans.append((found.text, sid, found.family, None, float(xs.min()), float(xs.max())))
    reads = []
    for text, sid, family, form, left, right in spans:
        quad = _placed(left - profiles.PAD, right - profiles.PAD, crop, box)
        reads.append(_Read(text, sid, family, quad, name, False, form))
    return reads


def _matrix_steps(
    gray: np.ndarray,
    region: Region,
    motion: Callable[[], tuple[float, float]],
    *,
    deblur: bool = True,
) -> Iterator[list[_Read]]:
    """Reads from views of a matrix region, cheapest and safest first.

    `deblur=False` (a sharp region of a page): no deconvolution for defocus or motion.
    """
    width, height = region.size
    scale = float(np.clip(_TARGET_MATRIX_SIDE / max(min(width, height), 1.0), 1.0, 3.0))
    # A region the size of the photo (gravel, a woven sack) is looked at scaled down: a symbol
    # that large keeps modules of several pixels, and every view costs with the area.
    scale = min(scale, _MAX_MATRIX_VIEW_SIDE / _warped_side(region))
    # Squarish regions are cut as found (the decoders handle any rotation); a rectangular
    # DataMatrix is turned upright so the cut follows its long side.
    rotation = 0.0 if is_squarish(region) else region.angle
    crop = _warp(gray, region, rotation, scale)
    if crop is None:
        return
    yield _zxing(crop, _MATRIX)
    # Sensor noise breaks modules into speckles that the local binariser follows: smooth first.
    smooth = cv2.GaussianBlur(crop.image, (0, 0), 0.8 * scale)
    yield _zxing(_derive(crop, "smoothed", smooth), _MATRIX)
    yield _zxing(_derive(crop, "unsharp", _unsharp(crop.image, 1.0 * scale, 1.5)), _MATRIX)
    if not deblur:
        yield _zxing(_derive(crop, "binarized", _binarize(crop.image)), _MATRIX)
        return
    for name, image in defocus_views(crop.image, scale=scale):
        yield _zxing(_derive(crop, name, image), _MATRIX)
    # Motion is undone at the photo's own scale, where the estimate's length holds.
    # A large region is scaled down first (the motion length with it): the deconvolutions
    # cost with the area, and a symbol that large keeps enough pixels per module.
    shrink = min(1.0, _MAX_DECONVOLVED_SIDE / _warped_side(region))
    native = _warp(gray, region, rotation, shrink)
    if native is not None:
        length, direction = motion()
        for name, image in motion_views(native.image, (length * shrink, direction)):
            yield _zxing(_derive(native, name, image), _MATRIX)
    yield _zxing(_derive(crop, "binarized", _binarize(crop.image)), _MATRIX)


def _margin(region: Region) -> float:
    width, height = region.size
    return 0.25 * max(min(width, height), 24.0) + 12.0


def _warped_side(region: Region) -> float:
    """The longest side of a matrix region's crop at scale 1, margins included."""
    return max(region.size) + 2 * _margin(region)


def _warp(gray: np.ndarray, region: Region, rotation: float, scale: float) -> _View | None:
    width, height = region.size
    margin = _margin(region)
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


def _derive(view: _View, name: str, image: np.ndarray) -> _View:
    return _View(name, image, view.to_source, trusted=False)


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


def _same_place(a: np.ndarray, b: np.ndarray, reach: float = 0.6) -> bool:
    distance = float(np.linalg.norm(_center(a) - _center(b)))
    return distance < reach * max(_extent(a), _extent(b))


# A stacked DataBar is read row by row: the reads of one symbol may lie a few rows apart.
_REACH = {"databar": 1.5}


def _add(clusters: list[_Cluster], reads: list[_Read]) -> None:
    for item in reads:
        for cluster in clusters:
            first = cluster.first
            if (
                first.text == item.text
                and first.family == item.family
                and (
                    _same_place(first.quad, item.quad, _REACH.get(item.family, 0.6))
                    or _mirrored_twin(cluster, item)
                )
            ):
                cluster.reads.append(item)
                break
        else:
            clusters.append(_Cluster([item]))


def _mirrored_twin(cluster: _Cluster, item: _Read) -> bool:
    """True when `item` repeats a DataBar read of the cluster from the same view.

    zxing-cpp can report a stacked DataBar twice from one image, the second time at the
    mirrored position; a label does not print one DataBar twice.
    """
    return item.family == "databar" and any(
        other.view == item.view and other.form == item.form for other in cluster.reads
    )


def _kind(cluster: _Cluster) -> accept.Kind | None:
    first = cluster.first
    return accept.classify(first.symbology_id, first.family, first.text, first.form)


def _trusted(cluster: _Cluster) -> bool:
    return any(item.trusted for item in cluster.reads)


def _acceptable(cluster: _Cluster) -> bool:
    kind = _kind(cluster)
    if kind is None:
        return False
    views = len({item.view for item in cluster.reads})
    return accept.acceptable(
        kind, cluster.first.symbology_id, cluster.first.text, trusted=_trusted(cluster), views=views
    )


def _accepted(clusters: list[_Cluster]) -> list[_Cluster]:
    return _sorted_out(clusters)[0]


def _sorted_out(clusters: list[_Cluster]) -> tuple[list[_Cluster], list[list[_Cluster]]]:
    """The clusters that can be reported, and the groups of acceptable clusters of one
    symbology that read different texts at one place (each group a conflict, none of its
    clusters reported)."""
    candidates = [cluster for cluster in clusters if _acceptable(cluster)]
    # A processed view that reads other text where the unprocessed image read a symbol has
    # misread it; two processed views that disagree at one place cannot both be right, and
    # neither can two reads of the unprocessed image that disagree (a damaged or overprinted
    # symbol decodes two ways): such a pair is a conflict, and a second photo settles it.
    kept: list[_Cluster] = []
    conflicts: list[list[_Cluster]] = []
    for cluster in candidates:
        rivals = [
            other
            for other in candidates
            if other is not cluster
            and other.first.text != cluster.first.text
            and _overlap(cluster.first.quad, other.first.quad)
        ]
        same = [other for other in rivals if other.first.family == cluster.first.family]
        if _trusted(cluster):
            # Beats processed views; ties with another read of the unprocessed image.
            group = [cluster, *(other for other in same if _trusted(other))]
        elif any(_trusted(other) for other in rivals):
            continue  # a processed view misread what the unprocessed image read
        else:
            group = [cluster, *same]
        if not rivals or (_trusted(cluster) and len(group) == 1):
            kept.append(cluster)
        elif len(group) > 1 and not any(cluster in known for known in conflicts):
            conflicts.append(group)
    return kept, conflicts


def _conflicts(clusters: list[_Cluster], linear_regions: list[Region]) -> list[Conflict]:
    found = []
    for group in _sorted_out(clusters)[1]:
        kinds = [_kind(cluster) for cluster in group]
        texts = tuple(dict.fromkeys(cluster.first.text for cluster in group))
        if len(texts) < 2 or kinds[0] is None:
            continue
        symbol = _to_symbol(group[0], linear_regions)
        found.append(Conflict(kinds[0].name, texts, symbol.quad))
    return found


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
    # Across the bars a linear region may stop short of the symbol's edge (a scratch, a
    # washed-out end of the bars), where a decoder's scan line can lie: a margin there.
    # Called for every candidate of every search: the cheap tests on plain floats go first,
    # the polygon tests only where those pass.
    if not clusters:
        return False
    corners = region.corners()
    box = (
        cv2.boxPoints((region.center, (region.size[0], region.size[1] * 1.5), region.angle))
        if region.linear
        else corners
    ).astype(np.float32)
    contour = box.reshape(-1, 1, 2)
    low, high = corners.min(axis=0).tolist(), corners.max(axis=0).tolist()
    needed = 0.45 * max(region.size) * _cos_fit(region)
    for cluster in clusters:
        quad = cluster.first.quad
        xs, ys = quad[:, 0].tolist(), quad[:, 1].tolist()
        if max(max(xs) - min(xs), max(ys) - min(ys), 1.0) >= needed:
            center = tuple(map(float, _center(quad)))
            if cv2.pointPolygonTest(contour, center, False) >= 0:
                return True
        # A part of a read symbol (a QR Code's rows of modules look like bars): the region's
        # box must lie in the quad grown by a tenth (`_within`), so in its bounding box too.
        grow = 0.1 + 1e-3
        cx, cy = sum(xs) / 4, sum(ys) / 4
        if (
            cx + (min(xs) - cx) * (1 + grow) <= low[0]
            and cy + (min(ys) - cy) * (1 + grow) <= low[1]
            and cx + (max(xs) - cx) * (1 + grow) >= high[0]
            and cy + (max(ys) - cy) * (1 + grow) >= high[1]
            and _within(corners, quad)
        ):
            return True
    return False


def _explained(gray: np.ndarray, region: Region, clusters: list[_Cluster]) -> bool:
    """True when a read explains the region: it covers it, or the region is a row of a
    DataBar read whole (see `_row_of`)."""
    return _covered(region, clusters) or (
        region.linear and any(_row_of(gray, region, cluster) for cluster in clusters)
    )


# How far from a DataBar read (in its extent) a region may lie to be tested as one of its rows.
_ROW_REACH = 1.5
# A row is no longer across the bars than this share of the read's extent (its quad's longer
# side): a region that is, runs on beside the symbol (another symbol in line with a row).
_MAX_ROW_LENGTH = 1.25
# The cut a row is tested in: the read and the region, with this share of their span round them.
_ROW_CUT_MARGIN = 0.5


def _row_of(gray: np.ndarray, region: Region, cluster: _Cluster) -> bool:
    """True when the region is a row of the DataBar `cluster` read from the whole image.

    zxing-cpp places a stacked DataBar's read on one of its rows, or on part of them (an
    Expanded Stacked one), so the other rows look like bars no read explains, and each
    escalated for nothing. The test: a cut around the read and the region reads the symbol,
    and no longer reads it once the region is painted over with the paper's tone. A separate
    symbol beside the DataBar leaves the DataBar's read as it was when it is painted over;
    one in line with a row can be found as one region with it, longer than the symbol.
    """
    first = cluster.first
    if first.family != "databar" or not any(item.view == "original" for item in cluster.reads):
        return False
    corners = region.corners()
    extent = _extent(first.quad)
    if region.size[0] > _MAX_ROW_LENGTH * extent:
        return False  # longer than the symbol: bars beside it in line, a region of both
    reach = _ROW_REACH * max(extent, max(region.size))
    if float(np.linalg.norm(_center(corners) - _center(first.quad))) > reach:
        return False
    points = np.vstack([corners, first.quad])
    # zxing-cpp may place an Expanded Stacked read on part of its width: a cut of half the
    # span again on each side holds the whole symbol, so that it reads there at all.
    margin = _ROW_CUT_MARGIN * float((points.max(axis=0) - points.min(axis=0)).max())
    height, width = gray.shape[:2]
    x0, y0 = (int(max(v, 0.0)) for v in points.min(axis=0) - margin)
    x1 = int(min(float(points[:, 0].max()) + margin, width))
    y1 = int(min(float(points[:, 1].max()) + margin, height))
    if x1 - x0 < 8 or y1 - y0 < 8 or (x1 - x0) * (y1 - y0) > 4_000_000:
        return False
    cut = gray[y0:y1, x0:x1]
    if first.text not in (r.text for r in _zx_results(cut, _DATABAR, whole=True)):
        return False
    painted = cut.copy()
    paper = int(np.percentile(cut, 90))
    shifted = np.round(corners - (x0, y0)).astype(np.int32).reshape(-1, 1, 2)
    cv2.fillConvexPoly(painted, shifted, paper)
    return first.text not in (r.text for r in _zx_results(painted, _DATABAR, whole=True))


def _within(points: np.ndarray, quad: np.ndarray, grow: float = 0.1) -> bool:
    """True when every point lies in `quad` grown by `grow` of its size about its centre."""
    center = _center(quad)
    grown = (center + (quad - center) * (1.0 + grow)).astype(np.float32).reshape(-1, 1, 2)
    return all(cv2.pointPolygonTest(grown, (float(x), float(y)), False) >= 0 for x, y in points)


def _cos_fit(region: Region) -> float:
    # Axis-aligned extent of a rotated symbol is at least its length times |cos| or |sin|.
    theta = math.radians(region.angle)
    return max(abs(math.cos(theta)), abs(math.sin(theta)))


_LINEAR_FAMILIES = ("code128", "ean13", "itf", "databar")


def _on_region(quad: np.ndarray, regions: list[Region]) -> bool:
    cx, cy = (float(v) for v in _center(quad))
    return any(
        cv2.pointPolygonTest(region.corners().reshape(-1, 1, 2), (cx, cy), False) >= 0
        for region in regions
    )


def _span_bars(quad: np.ndarray, regions: list[Region]) -> np.ndarray:
    """A linear read's quad stretched over the full bar height of the region it lies in.

    Decoders report the scan lines they used, often a sliver of the bars; an annotation box
    should cover the symbol. The read's extent across the bars is kept.
    """
    center = _center(quad)
    for region in regions:
        corners = region.corners().reshape(-1, 1, 2)
        if cv2.pointPolygonTest(corners, (float(center[0]), float(center[1])), False) < 0:
            continue
        theta = math.radians(region.angle)
        axis = np.array([math.cos(theta), math.sin(theta)], np.float32)
        normal = np.array([-axis[1], axis[0]], np.float32)
        origin = np.array(region.center, np.float32)
        along = (quad - origin) @ axis
        half = region.size[1] / 2
        low, high = float(along.min()), float(along.max())
        box = [
            origin + axis * low - normal * half,
            origin + axis * high - normal * half,
            origin + axis * high + normal * half,
            origin + axis * low + normal * half,
        ]
        return np.asarray(box, np.float32)
    return quad


def _to_symbol(cluster: _Cluster, linear_regions: list[Region]) -> Symbol:
    kind = _kind(cluster)
    assert kind is not None
    # Prefer the quad of a read of the unprocessed image (views add interpolation error),
    # and for a linear symbol one that lies on bars.
    trusted = [item for item in cluster.reads if item.trusted] or [cluster.first]
    on_bars = [item for item in trusted if _on_region(item.quad, linear_regions)]
    best = (on_bars or trusted)[0] if kind.family in _LINEAR_FAMILIES else trusted[0]
    quad_array = best.quad
    if kind.family in _LINEAR_FAMILIES:
        quad_array = _span_bars(quad_array, linear_regions)
    quad = _quad(quad_array)
    return Symbol(
        text=cluster.first.text,
        gs1=kind.gs1,
        symbology=kind.name,
        symbology_id=cluster.first.symbology_id,
        quad=quad,
    )
