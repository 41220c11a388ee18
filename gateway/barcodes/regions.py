"""Where barcodes may be: candidate regions from gradient structure, found once per image.

Bars of a linear symbol give strong gradients that all point one way (high coherence of the
structure tensor); the modules of a QR Code or DataMatrix give strong gradients in two
directions packed densely in a squarish area. Both are found on a downscaled copy, so a 12 MP
photo costs about what a 1 MP one does.

Linear symbols are found per gradient direction (eight overlapping direction bins) and their
bars are joined by a closing *across* the bars only. A square closing would also join symbols
stacked above each other, with the text and the hazard marks between them, into one blob that
no longer looks like a barcode; joining across the bars keeps each symbol apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

_WORK_SIDE = 900  # long side of the working copy, px
_BINS = 8  # gradient direction bins over 180 degrees, each +-1 bin wide (overlapping)
_MIN_COHERENCE = 0.6  # of the structure tensor: bars of a linear symbol point one way
_MIN_EDGES = 16  # light/dark changes on a scan line across a linear symbol, at least
# A piece of a symbol that the closing left apart (a GS1 DataBar split at its finders' wide
# spaces) has a few bars; it is joined with the pieces in line with it (`_grown`), at most
# `_MAX_UNION_TESTS` unions tested for bars a photo.
_MIN_PIECE_EDGES = 6
_MAX_UNION_TESTS = 12
_MIN_BAND_SIMILARITY = 0.5  # correlation of scan lines near the top and bottom of the bars
# Squarish matrix regions are taken as they come. Longer ones (rectangular DataMatrix, up to
# the 8 x 64 and 12 x 88 extension sizes) look like a word of text to the texture measure,
# so they must also show DataMatrix's finder: two adjacent solid dark edges (the "L").
_MAX_MATRIX_ASPECT = 1.6
_MAX_RECTANGLE_ASPECT = 9.0
_MIN_FINDER_DARK = 0.8  # share of an edge line of the symbol that is dark, for a solid edge
_MIN_RUN_SPREAD = 0.25  # bars and spaces of a symbol vary in width; hatching does not
_MIN_BAR_HEIGHT = 20.0  # px in the image: shorter "bars" are strokes of a line of text
# Bars run straight along their height: inside a symbol the image changes along the bars far
# less than across them (blur of any direction keeps it so). Text has strokes both ways.
_MAX_ALONG_CHANGE = 0.3  # sum |d/d along| over sum |d/d across|, middle of the bars
# A region as short as a line of text has few rows, in which the strokes of the letters
# across weigh more; no symbol measured that short changed along its bars by over 0.05.
_SHORT_BARS = 32.0  # px
_MAX_ALONG_CHANGE_SHORT = 0.1
# Candidate linear regions tested for bars at most (most coherent first).
_MAX_BAR_TESTS = 48
# Texture that passed the tests (`looks_textured`): wood grain's patches cross 16-22 light/
# dark changes and their single rows agree with the mean row by 0.59-0.81; regions of
# symbols with so few changes (glare, defocus) agree by 0.98 or more.
_SYMBOL_CROSSINGS = 24
_MIN_ROW_AGREEMENT = 0.9
# A region spanning this share of the photo's width and height both is the photo's surface.
_MAX_FRAME_SHARE = 0.9
# Both ends of a symbol have a quiet zone: somewhere within this share of the region's width
# beyond each end, a stretch of `_QUIET_WINDOW` of its width (at least 8 px) whose scan
# line changes less than `_MAX_QUIET_CHANGE` times as much as inside the bars. A grained or
# woven surface goes on past the ends of a patch of bars.
_QUIET_REACH = 0.3
_QUIET_WINDOW = 0.06
_MAX_QUIET_CHANGE = 0.08
_NEAR_GAP = 1.2  # bar heights between pieces of one symbol that are always joined
_FAR_GAP = 3.5  # bar heights up to which a union of pieces is tried as well


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


def find_regions(
    gray: np.ndarray,
    limit: int = 12,
    work_side: int = _WORK_SIDE,
    *,
    coarse: bool = False,
    explained: Callable[[Region], bool] | None = None,
) -> list[Region]:
    """Candidate symbol regions, linear ones first, most barcode-like first, at most `limit`.

    The gradient structure is measured on a copy whose long side is `work_side` px at most;
    the bar tests run at full resolution. `coarse`: the tensor is sampled at half the working
    scale, for about half the time; the regions are the same but for a pixel or two of their
    edges and a few squarish blocks of text, found or missed (see `_halved`), and a faint
    symbol's region may be missed (a DataMatrix under strong motion blur). A linear
    candidate that `explained` says a read already explains is kept without the tests at
    full resolution (bars, quiet zones): either it is that symbol or it is nothing.
    """
    height, width = gray.shape[:2]
    scale = min(1.0, work_side / max(height, width))
    small = _downscaled(gray, scale)
    gx = cv2.Sobel(small, cv2.CV_16S, 1, 0, ksize=3)  # exact; products are taken in float
    gy = cv2.Sobel(small, cv2.CV_16S, 0, 1, ksize=3)
    average = _halved if coarse else _box5
    jxx, jyy, jxy = (
        average(cv2.multiply(a, b, dtype=cv2.CV_32F)) for a, b in ((gx, gx), (gy, gy), (gx, gy))
    )
    step = small.shape[1] / jxx.shape[1]  # working pixels per tensor pixel
    # A tensor pixel's centre, in original pixels: (centre * step + (step - 1) / 2) / scale.
    shift = (step - 1.0) / 2.0 / scale
    scale /= step
    energy = cv2.add(jxx, jyy)
    difference, twice_xy = cv2.subtract(jxx, jyy), cv2.add(jxy, jxy)
    coherence = cv2.divide(cv2.magnitude(difference, twice_xy), energy + np.float32(1e-3))
    # The gradient direction over 180 degrees is half the tensor's phase; its bin, counted
    # from -90 degrees, straight from the phase (OpenCV's phase costs a fraction of numpy's
    # arctan2, and no float direction image is kept).
    bins = _direction_bins(cv2.phase(difference, twice_xy, angleInDegrees=True))

    # Strong texture, thresholded by Otsu on this image: robust to exposure and contrast.
    # (Scaled so the strongest gradient is 255: no value leaves 0-255.)
    scaled = np.asarray(cv2.sqrt(energy), np.float32)
    scaled *= 255.0 / max(float(scaled.max()), 1.0)
    otsu, _ = cv2.threshold(scaled.astype(np.uint8), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # The masks are 0/255 images made by OpenCV: numpy's comparisons and boolean indexing
    # cost several times as much on a working copy of 0.6 MP.
    strong = _over(scaled, max(0.7 * otsu, 12.0))
    long_side = max(jxx.shape[:2])
    tensor = (jxx, jyy, jxy)

    coherent = cv2.bitwise_and(strong, _over(coherence, _MIN_COHERENCE))
    linear = _linear_regions(coherent, bins, tensor, long_side, step)
    textured = cv2.bitwise_and(strong, cv2.bitwise_not(_over(coherence, 0.75)))
    matrix = _matrix_regions(textured, long_side, step)
    linear = [_scaled(region, scale, shift) for region in linear]
    known = [region for region in linear if explained is not None and explained(region)]
    linear = _with_bars(gray, [region for region in linear if region not in known], limit)
    linear = [region for region in _join_pieces(linear) if _quiet_ends(gray, region)]
    linear += known
    linear.sort(key=lambda region: region.score, reverse=True)
    matrix = [_scaled(region, scale, shift) for region in matrix]
    matrix = [r for r in matrix if is_squarish(r) or _has_finder(gray, r)]
    matrix.sort(key=lambda region: region.score, reverse=True)
    found = [region for region in linear + matrix if not _fills_frame(region, width, height)]
    return found[:limit]


def _over(image: np.ndarray, value: float) -> np.ndarray:
    """255 where the float image is over `value`, else 0 (uint8)."""
    _, mask = cv2.threshold(image, value, 255, cv2.THRESH_BINARY)
    return np.asarray(mask, np.uint8)


def _downscaled(gray: np.ndarray, scale: float) -> np.ndarray:
    """`gray` scaled by `scale` (at most 1), smoothed first so that nothing aliases.

    OpenCV's area resampling is fast at whole-number factors only (a 1.4x reduction of a
    1.3 MP photo cost as much as zxing-cpp's whole read): the whole-number part is taken by
    area, the rest (under 2x) by a Gaussian of the width that factor needs and bilinear
    interpolation. Bilinear alone aliases: a line of capitals then shows as bars.
    """
    if scale >= 1.0:
        return gray
    height, width = gray.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    factor = int(1.0 / scale + 1e-6)
    image = gray
    if factor >= 2:
        image = cv2.resize(gray, (width // factor, height // factor), interpolation=cv2.INTER_AREA)
    rest = image.shape[1] / size[0]
    if rest <= 1.01:
        return image if (image.shape[1], image.shape[0]) == size else cv2.resize(image, size)
    # About the spread of the area filter of that width (a box of width f: f / sqrt(12)).
    smooth = cv2.GaussianBlur(image, (0, 0), 0.4 * math.sqrt(rest * rest - 1.0))
    return np.asarray(cv2.resize(smooth, size, interpolation=cv2.INTER_LINEAR))


def _box5(product: np.ndarray) -> np.ndarray:
    """A tensor product averaged over a 5x5 box."""
    return np.asarray(cv2.blur(product, (5, 5)))


def _halved(product: np.ndarray) -> np.ndarray:
    """A tensor product averaged over 2x2 pixels and then over a 3x3 box, at half the size.

    The tensor is averaged over a few pixels anyway: its products are taken at the working
    scale, where strokes of text are still resolved, and sampled at half of it, where all
    that follows (phase, coherence, the direction bins' closings, the contours) costs a
    quarter; the two boxes span about the 5x5 box at the working scale. (Gradients of a copy
    at two thirds of the scale merge blocks of text into squarish "matrix" regions.)
    """
    height, width = product.shape[:2]
    if min(height, width) < 16:
        return _box5(product)
    half = cv2.resize(product, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.blur(half, (3, 3)))


def _direction_bins(phase: np.ndarray) -> np.ndarray:
    """The direction bin (0 to `_BINS` - 1) of each pixel, from the tensor's phase in degrees.

    The gradient direction is half the phase, measured over 180 degrees from -90: bin
    floor((phase / 2 + 90) / step) modulo `_BINS`.
    """
    step = 180.0 / _BINS
    # Rounded after subtracting a half: the floor, in OpenCV's saturating conversion.
    index = cv2.convertScaleAbs(phase, alpha=0.5 / step, beta=90.0 / step - 0.5)
    table = (np.arange(256) % _BINS).astype(np.uint8)
    return np.asarray(cv2.LUT(index, table))


def _fills_frame(region: Region, width: int, height: int) -> bool:
    """True when the region spans the whole photo: texture from edge to edge (wood grain,
    woven sack, gravel) is a surface, where a symbol has a quiet zone around it."""
    corners = region.corners()
    low = np.maximum(corners.min(axis=0), 0.0)
    high = np.minimum(corners.max(axis=0), (width, height))
    span = high - low
    return bool(span[0] >= _MAX_FRAME_SHARE * width and span[1] >= _MAX_FRAME_SHARE * height)


def is_squarish(region: Region) -> bool:
    width, height = region.size
    return max(width, height) <= _MAX_MATRIX_ASPECT * max(min(width, height), 1.0)


def _join_pieces(regions: list[Region]) -> list[Region]:
    """Pieces of one symbol, in line with each other, joined into one region.

    Glare or a crease across a symbol washes out a band of bars and leaves two pieces; each
    alone is too short to decode, together they are the symbol.
    """
    pieces = list(regions)
    joined = True
    while joined:
        joined = False
        for i, a in enumerate(pieces):
            for b in pieces[i + 1 :]:
                union = _union_if_aligned(a, b, _NEAR_GAP)
                if union is not None:
                    pieces = [r for r in pieces if r is not a and r is not b] + [union]
                    joined = True
                    break
            if joined:
                break
    # Farther apart, the pieces may also be two symbols side by side: keep them and add the
    # union as one more candidate (a wide glare spot leaves a long gap).
    unions = [
        union
        for i, a in enumerate(pieces)
        for b in pieces[i + 1 :]
        if (union := _union_if_aligned(a, b, _FAR_GAP)) is not None
    ]
    return pieces + unions


def _union_if_aligned(a: Region, b: Region, max_gap: float) -> Region | None:
    turn = abs((a.angle - b.angle + 90.0) % 180.0 - 90.0)
    if turn > 4.0:
        return None
    theta = math.radians(a.angle)
    axis = np.array([math.cos(theta), math.sin(theta)], np.float32)
    normal = np.array([-axis[1], axis[0]], np.float32)
    height = max(a.size[1], b.size[1])
    offset = np.array(b.center, np.float32) - np.array(a.center, np.float32)
    if abs(float(offset @ normal)) > 0.3 * height:
        return None  # side by side across the bars: two symbols stacked, not one split
    gap = abs(float(offset @ axis)) - (a.size[0] + b.size[0]) / 2
    if gap > max_gap * height:
        return None
    points = np.vstack([a.corners(), b.corners()]).reshape(-1, 1, 2)
    across, along, center = _oriented_size(points, a.angle)
    return Region(center, (across, along), a.angle, True, max(a.score, b.score))


def _with_bars(gray: np.ndarray, candidates: list[Region], limit: int) -> list[Region]:
    """The candidates (most coherent first) that have bars, until `limit` have them or
    `_MAX_BAR_TESTS` were tried: a wood grain or a woven surface gives hundreds of coherent
    patches, and each test cuts a strip at full resolution. Pieces with too few bars for a
    symbol are joined with the pieces in line with them (`_grown`)."""
    kept: list[Region] = []
    few: list[Region] = []
    for region in candidates[:_MAX_BAR_TESTS]:
        verdict = _bars(gray, region)
        if verdict is None:
            few.append(region)
        elif verdict:
            kept.append(region)
            if len(kept) >= limit:
                break
    return _grown(gray, kept, few) if few else kept


def _grown(gray: np.ndarray, kept: list[Region], few: list[Region]) -> list[Region]:
    """`kept` with each piece of `few` joined to a piece in line with it, when the union has
    bars.

    The closing across the bars joins bars over gaps of about 1.5 % of the working copy's
    side, wider than any space of a Code 128 or an EAN-13 printed to fill a photo; GS1
    DataBar has spaces of up to 8 modules (its finder patterns), and a large or tilted one
    falls apart there into pieces of a few bars each, too few to pass as a symbol alone: a
    row of a stacked DataBar gives no piece that does. Joined, they are the symbol.
    """
    pool = [*kept, *few]
    unions = 0
    grown = True
    while grown and unions < _MAX_UNION_TESTS:
        grown = False
        for piece in [region for region in pool if region in few]:
            for other in pool:
                if other is piece:
                    continue
                union = _union_if_aligned(piece, other, _NEAR_GAP)
                if union is None:
                    continue
                unions += 1
                if _bars(gray, union):
                    pool = [
                        region for region in pool if region is not piece and region is not other
                    ]
                    pool.append(union)
                    grown = True
                    break
                if unions >= _MAX_UNION_TESTS:
                    break
            if grown or unions >= _MAX_UNION_TESTS:
                break
    return [region for region in pool if region not in few]


def _has_bars(gray: np.ndarray, region: Region) -> bool:
    """True when scan lines across the region, at full resolution, cross the same many bars
    (see `_bars`)."""
    return _bars(gray, region) is True


def _bars(gray: np.ndarray, region: Region) -> bool | None:
    """True when scan lines across the region, at full resolution, cross the same many bars;
    None when the region is tall enough for bars but its scan lines cross too few for a
    symbol (`_MIN_PIECE_EDGES` or more): a piece of one, maybe.

    Parallel rules, text lines and paper edges are coherent too, but a scan line across them
    meets a handful of edges; the shortest symbol read here has over 30 bars and spaces. And
    bars run the whole height of a symbol, so a scan line near its top and one near its bottom
    see the same pattern, where two scan lines through a line of text see different letters.
    """
    along = region.size[1]
    if along < _MIN_BAR_HEIGHT:
        return False
    strip, upper, lower = _scan_lines(gray, region)
    length = strip.shape[1]
    edges = max(_edges(upper), _edges(lower))
    if edges < _MIN_EDGES:
        return None if edges >= _MIN_PIECE_EDGES else False
    if _run_spread(upper + lower) < _MIN_RUN_SPREAD:
        return False  # evenly spaced stripes: hazard-label hatching, a grille, a ruled pattern
    limit = _MAX_ALONG_CHANGE_SHORT if along < _SHORT_BARS else _MAX_ALONG_CHANGE
    if _along_change(strip) > limit:
        return False  # a word or a line of text: its letters have strokes across, too
    # Compared piecewise: perspective scales the bars near the top and bottom differently, so
    # one shift cannot align whole scan lines, but a local one aligns each quarter.
    pieces = np.array_split(np.arange(length), 4)
    scores = [
        _similarity(upper[piece], lower[piece], max(2, piece.size // 20))
        for piece in pieces
        if piece.size >= 16
    ]
    return bool(scores) and float(np.mean(scores)) >= _MIN_BAND_SIMILARITY


def looks_textured(gray: np.ndarray, region: Region) -> bool:
    """True when a linear region has few bars for a symbol and its bars do not run straight:
    a patch of wood grain (or another surface) that passed the region tests.

    Its scan lines cross fewer than `_SYMBOL_CROSSINGS` light/dark changes, and single rows
    across it agree with their mean by less than `_MIN_ROW_AGREEMENT` (the grain's lines
    bend and merge from row to row; printed bars stay put, however blurred or lit).
    """
    strip, upper, lower = _scan_lines(gray, region)
    if max(_edges(upper), _edges(lower)) >= _SYMBOL_CROSSINGS:
        return False
    window = _detail_window(strip.shape[1])
    mean = _standardised(_detail(strip.mean(axis=0), window))
    rows = strip[:: max(1, strip.shape[0] // 12)]
    agreement = [
        float(np.dot(_standardised(_detail(row, window)), mean)) / mean.size for row in rows
    ]
    return float(np.mean(agreement)) < _MIN_ROW_AGREEMENT


def _standardised(values: np.ndarray) -> np.ndarray:
    return np.asarray((values - values.mean()) / (float(values.std()) + 1e-6), np.float32)


def _detail_window(length: int) -> int:
    return max(3, length // 12) | 1


def _scan_lines(gray: np.ndarray, region: Region) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The region's upright strip and the detail of its top and bottom thirds' scan lines."""
    length = int(min(max(region.size[0], 8.0), 4000.0))
    rows = int(min(max(region.size[1] * 0.8, 6.0), 400.0))
    strip = _upright(gray, region, length, rows).astype(np.float32)
    third = max(1, rows // 3)
    window = _detail_window(length)
    upper = _detail(strip[:third].mean(axis=0), window)
    lower = _detail(strip[-third:].mean(axis=0), window)
    return strip, upper, lower


def _quiet_ends(gray: np.ndarray, region: Region) -> bool:
    """True when both ends of the region are followed by a quiet zone (see `_QUIET_REACH`).

    Measured on the scan line averaged over the rows (sensor noise averages out, bars do
    not); outside the photo counts as quiet (a symbol cut by the photo's edge is not refused
    here). Tested once pieces are joined: a piece of a symbol split by glare has washed-out
    bars, not a quiet zone, at the end the glare cut.
    """
    length = int(min(max(region.size[0], 8.0), 4000.0))
    rows = int(min(max(region.size[1] * 0.8, 6.0), 400.0))
    reach = int(max(12.0, _QUIET_REACH * region.size[0]))
    strip = _upright(gray, region, length + 2 * reach, rows, border=255)
    change = np.abs(np.diff(strip.astype(np.float32).mean(axis=0)))
    inside = float(change[reach : reach + length].mean()) + 1e-3
    window = int(max(8.0, _QUIET_WINDOW * region.size[0]))
    box = np.ones(window, np.float32) / window
    for side in (change[:reach], change[reach + length - 1 :]):
        if side.size >= window and float(np.convolve(side, box, "valid").min()) >= (
            _MAX_QUIET_CHANGE * inside
        ):
            return False
    return True


def _along_change(strip: np.ndarray) -> float:
    """How much the middle rows of an upright strip change along the bars, relative to across.

    Lightly smoothed first, so that sensor noise (which changes both ways alike) weighs less
    than the strokes of letters.
    """
    rows = strip.shape[0]
    middle = strip[round(0.2 * rows) : round(0.8 * rows)] if rows >= 8 else strip
    if middle.shape[0] < 2 or middle.shape[1] < 2:
        return 0.0
    smooth = cv2.GaussianBlur(middle, (0, 0), 1.0)
    across = float(np.abs(np.diff(smooth, axis=1)).sum())
    along = float(np.abs(np.diff(smooth, axis=0)).sum())
    # Per pixel pair: a strip has (rows - 1) x cols vertical and rows x (cols - 1) horizontal.
    along /= max(middle.shape[0] - 1, 1) * middle.shape[1]
    across /= middle.shape[0] * max(middle.shape[1] - 1, 1)
    return float(along / max(across, 1e-6))


def _upright(
    gray: np.ndarray, region: Region, width: int, height: int, border: int = 0
) -> np.ndarray:
    """A `width` x `height` cut centred on the region, turned by its angle to lie level."""
    matrix = cv2.getRotationMatrix2D(region.center, region.angle, 1.0)
    matrix[0, 2] += width / 2 - region.center[0]
    matrix[1, 2] += height / 2 - region.center[1]
    return np.asarray(
        cv2.warpAffine(gray, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=border)
    )


def _detail(profile: np.ndarray, window: int) -> np.ndarray:
    smooth = cv2.blur(profile.reshape(1, -1), (window, 1)).ravel()
    return np.asarray(profile - smooth, np.float32)


def _run_spread(detail: np.ndarray) -> float:
    # Coefficient of variation of the light and dark run lengths on a scan line. Symbols
    # encode data in bars and spaces of 1 to 4 module widths; hatching repeats one width.
    dark = detail < 0
    changes = np.flatnonzero(np.diff(dark.astype(np.int8))) + 1
    runs = np.diff(changes).astype(np.float32)
    if runs.size < 8:
        return 0.0
    return float(runs.std() / max(float(runs.mean()), 1e-3))


def _edges(detail: np.ndarray) -> int:
    hysteresis = 0.25 * float(detail.std())
    if hysteresis < 1.0:
        return 0
    # Light/dark changes with hysteresis: sign changes of the thresholded detail.
    signs = np.where(detail > hysteresis, 1, np.where(detail < -hysteresis, -1, 0))
    signs = signs[signs != 0]
    return int(np.count_nonzero(np.diff(signs)))


def _similarity(a: np.ndarray, b: np.ndarray, max_lag: int) -> float:
    # Best normalised correlation over small shifts: residual skew and perspective move bars.
    best = -1.0
    for lag in range(-max_lag, max_lag + 1):
        x = a[max(0, lag) : a.size + min(0, lag)]
        y = b[max(0, -lag) : b.size + min(0, -lag)]
        if x.size < 8:
            continue
        denom = float(np.linalg.norm(x) * np.linalg.norm(y))
        if denom > 0:
            best = max(best, float(np.dot(x, y)) / denom)
    return best


def _linear_regions(
    coherent: np.ndarray,
    bins: np.ndarray,
    tensor: tuple[np.ndarray, np.ndarray, np.ndarray],
    long_side: int,
    step: float = 1.0,
) -> list[Region]:
    """Linear regions of the tensor's masks (`coherent`: 255 where strong and coherent);
    `step` is the working pixels per mask pixel, by which the kernels (sized at the working
    scale) shrink."""
    bin_width = 180.0 / _BINS
    # Wider than the widest space between bars.
    join = _odd(max(7, round(long_side * step / 75)) / step)
    speck = _odd(5 / step)
    found: list[Region] = []
    # A pixel lies between the centres of bins `lower` and `lower + 1` and belongs to both.
    lower = cv2.bitwise_or(bins, cv2.bitwise_not(coherent))  # 255 where not coherent
    for index in range(_BINS):
        center = -90.0 + bin_width * index
        table = np.zeros(256, np.uint8)
        table[[index, (index - 1) % _BINS]] = 255
        raw = cv2.LUT(lower, table)
        if cv2.countNonZero(raw) < 50:
            continue
        mask = cv2.morphologyEx(raw, cv2.MORPH_CLOSE, _line_kernel(join, center))
        # A short opening along the bars drops isolated strokes of text.
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, _line_kernel(speck, center + 90.0))
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        found += _linear_bin_regions(contours, raw, tensor, long_side)
    found.sort(key=lambda region: region.score, reverse=True)
    # Overlapping bins find a symbol twice: keep the best one. Textured surfaces give hundreds
    # of candidates, so the test against every kept region is one array operation.
    kept: list[Region] = []
    frames = np.zeros((len(found), 6), np.float64)  # centre, axis, half sizes of kept regions
    for region in found:
        if kept and _inside_any(region.center, frames[: len(kept)]):
            continue
        theta = math.radians(region.angle)
        frames[len(kept)] = (
            *region.center,
            math.cos(theta),
            math.sin(theta),
            region.size[0] / 2,
            region.size[1] / 2,
        )
        kept.append(region)
    return kept


def _inside_any(point: tuple[float, float], frames: np.ndarray) -> bool:
    dx, dy = point[0] - frames[:, 0], point[1] - frames[:, 1]
    along = np.abs(dx * frames[:, 2] + dy * frames[:, 3])
    across = np.abs(-dx * frames[:, 3] + dy * frames[:, 2])
    return bool(np.any((along <= frames[:, 4]) & (across <= frames[:, 5])))


def _odd(length: float) -> int:
    """A kernel length: the whole part of `length`, made odd (at least 1)."""
    return int(length) | 1


def _line_kernel(length: int, angle: float) -> np.ndarray:
    kernel = np.zeros((length, length), np.uint8)
    half = (length - 1) / 2
    dx, dy = math.cos(math.radians(angle)) * half, math.sin(math.radians(angle)) * half
    cv2.line(
        kernel,
        (round(half - dx), round(half - dy)),
        (round(half + dx), round(half + dy)),
        1,
        1,
    )
    return kernel


def _linear_bin_regions(
    contours: Sequence[np.ndarray],
    raw: np.ndarray,
    tensor: tuple[np.ndarray, np.ndarray, np.ndarray],
    long_side: int,
) -> list[Region]:
    """The linear regions among one direction bin's contours.

    A bin has hundreds of contours, most of them specks: their boxes are taken from all the
    contours' points at once (one array), and only the wider ones are measured one by one.
    (Measuring those together as well, from one label image of the filled survivors, was
    slower: the image spans most of the photo, each survivor's own box a small part of it.)
    """
    if not contours:
        return []
    lengths = np.fromiter(map(len, contours), np.intp, len(contours))
    points = np.concatenate(contours).reshape(-1, 2)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    low, high = np.minimum.reduceat(points, starts), np.maximum.reduceat(points, starts)
    spans = high - low + 1
    wide = np.flatnonzero(spans.max(axis=1) >= 0.035 * long_side)
    if wide.size == 0:
        return []  # specks only: most bins of most photos
    found: list[Region] = []
    for index in wide.tolist():
        region = _linear_region(contours[index], raw, tensor, long_side)
        if region is not None:
            found.append(region)
    return found


def _linear_region(
    contour: np.ndarray,
    raw: np.ndarray,
    tensor: tuple[np.ndarray, np.ndarray, np.ndarray],
    long_side: int,
) -> Region | None:
    x, y, w, h = cv2.boundingRect(contour)
    blob = np.zeros((h, w), np.uint8)
    cv2.drawContours(blob, [contour], -1, 255, cv2.FILLED, offset=(-x, -y))
    area = cv2.countNonZero(blob)
    if area == 0:
        return None
    density = cv2.countNonZero(cv2.bitwise_and(raw[y : y + h, x : x + w], blob)) / area
    if density < 0.3:
        return None  # sparse strokes joined by the close: a paper edge or a text block
    sxx, syy, sxy = (cv2.mean(j[y : y + h, x : x + w], mask=blob)[0] * area for j in tensor)
    coh = math.sqrt((sxx - syy) ** 2 + 4 * sxy**2) / (sxx + syy + 1e-3)
    if coh < 0.5:
        return None  # gradients of several directions: hatching, a photo edge, clutter
    angle = 0.5 * math.degrees(math.atan2(2 * sxy, sxx - syy))
    across, along, center = _oriented_size(contour, angle)
    if across < 0.035 * long_side or along < 0.01 * long_side or along < 0.08 * across:
        return None  # a rule, a border, a line of text: not tall or wide enough for bars
    return Region(center, (across, along), angle, True, coh * density)


def _matrix_regions(textured: np.ndarray, long_side: int, step: float = 1.0) -> list[Region]:
    # `textured`: 255 where strong and not coherent.
    close = _odd(max(3, round(long_side * step / 130)) / step)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (close, close))
    mask = cv2.morphologyEx(textured, cv2.MORPH_CLOSE, kernel)
    speck = max(2, round(3 / step))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((speck, speck), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    found: list[Region] = []
    for contour in contours:
        (cx, cy), (w, h), angle = cv2.minAreaRect(contour)
        if min(w, h) < 0.025 * long_side:
            continue
        aspect = max(w, h) / max(min(w, h), 1.0)
        fill = float(cv2.contourArea(contour)) / max(w * h, 1.0)
        # Matrix symbols are solid; squarish ones are taken, longer ones checked later.
        if aspect <= _MAX_MATRIX_ASPECT and fill >= 0.6:
            # Cut upright: the sides as they lie along x and y (OpenCV may give the box
            # turned by 90 degrees, its sides swapped).
            upright = (h, w) if abs(angle) >= 45.0 else (w, h)
            found.append(Region((cx, cy), upright, 0.0, False, fill))
        elif aspect <= _MAX_RECTANGLE_ASPECT and fill >= 0.7:
            found.append(Region((cx, cy), (w, h), angle, False, fill - 1.0))  # after squares
    return found


def _has_finder(gray: np.ndarray, region: Region) -> bool:
    """True when the region shows a DataMatrix finder: two adjacent solid dark edges.

    The region is turned upright and binarised; the tight box around its dark pixels is
    taken, and its four edge lines are tested: a DataMatrix has a solid left column and
    bottom row (in some orientation: any two adjacent edges), where a word of text has at
    most one solid stroke on its box.
    """
    width, height = region.size
    margin = 0.15 * min(width, height) + 4
    out_w, out_h = int(width + 2 * margin), int(height + 2 * margin)
    if out_w < 8 or out_h < 8 or out_w * out_h > 4_000_000:
        return False
    patch = _upright(gray, region, out_w, out_h, border=255)
    _, dark = cv2.threshold(patch, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ys, xs = np.nonzero(dark)
    if xs.size == 0:
        return False
    box = dark[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float32)
    if min(box.shape) < 6:
        return False
    depth = max(1, round(min(box.shape) / 12))  # a module is at least this thick
    top = float(box[:depth].max(axis=0).mean())
    bottom = float(box[-depth:].max(axis=0).mean())
    left = float(box[:, :depth].max(axis=1).mean())
    right = float(box[:, -depth:].max(axis=1).mean())
    solid = [share >= _MIN_FINDER_DARK for share in (top, right, bottom, left)]
    return any(solid[i] and solid[(i + 1) % 4] for i in range(4))


def _scaled(region: Region, scale: float, shift: float = 0.0) -> Region:
    """The region of a copy scaled by `scale`, in the original's pixels, moved by `shift`."""
    cx, cy = region.center
    w, h = region.size
    return Region(
        (cx / scale + shift, cy / scale + shift),
        (w / scale, h / scale),
        region.angle,
        region.linear,
        region.score,
    )


def _oriented_size(contour: np.ndarray, angle: float) -> tuple[float, float, tuple[float, float]]:
    # Extent of the contour along the gradient direction and across it, and its centre: the
    # points projected on both at once (one product, one pass for the ends).
    theta = math.radians(angle)
    cos, sin = math.cos(theta), math.sin(theta)
    frame = np.array([[cos, -sin], [sin, cos]], np.float32)  # columns: the axis, the normal
    projected = contour.reshape(-1, 2).astype(np.float32) @ frame
    low, high = projected.min(axis=0), projected.max(axis=0)
    (low_a, low_n), (high_a, high_n) = low.tolist(), high.tolist()
    mid_a, mid_n = (high_a + low_a) / 2, (high_n + low_n) / 2
    center = (cos * mid_a - sin * mid_n, sin * mid_a + cos * mid_n)
    return high_a - low_a, high_n - low_n, center
