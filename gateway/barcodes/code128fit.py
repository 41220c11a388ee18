"""Code 128 read by fitting a blurred model to a scan-line profile, for blur no edge survives.

When the blur across the bars spans three modules or more, a Wiener filter cannot bring the
edges back: the box kernel of camera motion has zeros right in the band of the bars, and what
falls there is lost. Edge-finding decoders then have nothing to find. But the blur is known
(estimated by `profiles.rank_kernels`) and Code 128 is a small alphabet: every character is
one of 106 patterns of 11 modules. So the profile is read the other way round: each
candidate character is drawn, blurred by the same kernel and compared with the profile; a
beam search keeps the best few sequences, left to right. The symbol's ends (start character
on the left, stop pattern on the right) fix position and module width; the character count
follows from them and is confirmed by the check character and the stop pattern.

A fit always finds *some* best sequence, so a result must pass, besides the mod-103 check
character: a low residual (the model explains the profile), a margin over the best
different sequence, and then the reader's own rules (two bands agreeing, the code engine).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import cv2
import numpy as np

# Bar/space widths (modules) of the Code 128 characters 0-105; 103-105 are START A/B/C.
_WIDTHS_TEXT = (
    "212222 222122 222221 121223 121322 131222 122213 122312 132212 221213 221312 231212 "
    "112232 122132 122231 113222 123122 123221 223211 221132 221231 213212 223112 312131 "
    "311222 321122 321221 312212 322112 322211 212123 212321 232121 111323 131123 131321 "
    "112313 132113 132311 211313 231113 231311 112133 112331 132131 113123 113321 133121 "
    "313121 211331 231131 213113 213311 213131 311123 311321 331121 312113 312311 332111 "
    "314111 221411 431111 111224 111422 121124 121421 141122 141221 112214 112412 122114 "
    "122411 142112 142211 241211 221114 413111 241112 134111 111242 121142 121241 114212 "
    "124112 124211 411212 421112 421211 212141 214121 412121 111143 111341 131141 114113 "
    "114311 411113 411311 113141 114131 311141 411131 211412 211214 211232"
)
_WIDTHS = tuple(_WIDTHS_TEXT.split())
_STOP_WIDTHS = "2331112"  # 13 modules: the stop character and its final bar
_START_A, _START_B, _START_C = 103, 104, 105
_FNC1, _SHIFT, _CODE_C, _CODE_B_OR_FNC4, _CODE_A_OR_FNC4 = 102, 98, 99, 100, 101
_BEAM = 6
_SHIFTS = (0.0, -0.25, 0.25)  # module fractions a character may move by (print and perspective)
_MAX_RESIDUAL = 0.12  # of the profile's variance over the symbol, after the fit
_MIN_MARGIN = 1.15  # residual of the best different sequence over the best, at least
_SUPERSAMPLE = 8
_MIN_MODULE = 1.2  # px in the profile
_COUNT_MARGIN = 0.5  # greedy error of the best character count over the second best, at most


def _bits(widths: str) -> np.ndarray:
    out: list[int] = []
    for index, width in enumerate(widths):
        out.extend([1 if index % 2 == 0 else 0] * int(width))  # 1 = bar
    return np.array(out, np.float32)


_PATTERNS = np.stack([_bits(w) for w in _WIDTHS])  # 106 x 11
_STOP = _bits(_STOP_WIDTHS)  # 13
STOP_ROW = _PATTERNS.shape[0]  # the stop pattern's row in a model's drawings
_ROWS = np.zeros((STOP_ROW + 1, 13), np.float32)  # every character and the stop, padded
_ROWS[:STOP_ROW, :11] = _PATTERNS
_ROWS[STOP_ROW] = _STOP
_DATA_VALUES = np.arange(_START_A)
_START_VALUES = np.array([_START_A, _START_B, _START_C])


@dataclass(frozen=True, slots=True)
class FitRead:
    """A Code 128 symbol read by model fitting: AIM identifier and text as zxing-cpp gives."""

    symbology_id: str
    text: str
    left: float  # profile samples where the symbol starts and ends
    right: float
    count: int  # characters from start to check


class _Model:
    """Blurred drawings of every character at eight sub-pixel phases, for one module width.

    Drawing and blur are linear, so the model of a stretch of symbol is the sum of its
    characters' blurred drawings: each is drawn once per phase and reused.
    """

    def __init__(self, module: float, kernel: np.ndarray) -> None:
        self.module = module
        self.half = kernel.size / 2
        self.pad = int(np.ceil(self.half)) + 2
        self.width = int(np.ceil(13 * module)) + 2 * self.pad + 2
        taps = kernel.reshape(1, -1).astype(np.float32)
        self.drawn = []
        for phase in range(_SUPERSAMPLE):
            origin = self.pad + phase / _SUPERSAMPLE
            fine = -0.5 + (np.arange(self.width * _SUPERSAMPLE) + 0.5) / _SUPERSAMPLE
            index = np.floor((fine - origin) / module).astype(np.int64)
            inside = (index >= 0) & (index < 13)
            values = np.where(inside, _ROWS[:, np.clip(index, 0, 12)], 0.0)
            rows = values.reshape(_ROWS.shape[0], self.width, _SUPERSAMPLE).mean(axis=2)
            blurred = cv2.filter2D(
                rows.astype(np.float32), -1, taps, borderType=cv2.BORDER_CONSTANT
            )
            self.drawn.append(np.asarray(blurred, np.float32))

    def place(self, at: float) -> tuple[int, int]:
        """Phase and first sample of a character drawn at position `at`."""
        whole = int(np.floor(at))
        phase = round((at - whole) * _SUPERSAMPLE)
        if phase == _SUPERSAMPLE:
            whole, phase = whole + 1, 0
        return phase, whole - self.pad

    def add(self, canvas: np.ndarray, value: int, at: float) -> None:
        """Adds character `value` (or the stop pattern, `STOP_ROW`) at `at` to `canvas`."""
        phase, first = self.place(at)
        row = self.drawn[phase][value]
        lo, hi = max(first, 0), min(first + self.width, canvas.size)
        if hi > lo:
            canvas[lo:hi] += row[lo - first : hi - first]

    def stop_error(self, profile: np.ndarray, canvas: np.ndarray, at: float) -> float:
        """Fit error of the profile by canvas + the stop pattern drawn at `at`.

        Compared from half a kernel before the pattern to half a kernel past its end: the
        quiet zone follows, and the samples before were compared with the last character.
        """
        start = max(round(at - self.half), 0)
        stop = min(round(at + 13 * self.module + self.half), profile.size)
        phase, first = self.place(at)
        lo, hi = start - first, stop - first
        if stop - start < 2 or lo < 0 or hi > self.width:
            return float("inf")
        model = canvas[start:stop] + self.drawn[phase][STOP_ROW, lo:hi]
        return float(_fit_errors(model[None, None], profile[None, start:stop])[0, 0])

    def batch_errors(
        self,
        profile: np.ndarray,
        canvases: list[np.ndarray],
        ats: list[float],
        values: np.ndarray = _DATA_VALUES,
    ) -> np.ndarray:
        """Fit errors of canvas + each of `values` drawn at `at`, for several (canvas, `at`)
        pairs at once: one row per pair, inf where the character does not fit the profile.

        Compared from half a kernel before the character over one character's width, so each
        sample is compared once; the width is rounded once, so the fits stack.
        """
        length = round(11 * self.module)
        out = np.full((len(ats), values.size), np.inf)
        models, observed, rows = [], [], []
        for row, (canvas, at) in enumerate(zip(canvases, ats, strict=True)):
            start = round(at - self.half)
            phase, first = self.place(at)
            lo = start - first
            if start < 0 or start + length > profile.size or lo < 0 or lo + length > self.width:
                continue
            drawn = self.drawn[phase][values, lo : lo + length]
            models.append(canvas[start : start + length][None, :] + drawn)
            observed.append(profile[start : start + length])
            rows.append(row)
        if rows:
            out[rows] = _fit_errors(np.stack(models), np.stack(observed))
        return out


def _fit_errors(models: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Least-squares error of observed ~ a + b * model, with b <= 0 (bars are dark).

    `models` is groups x candidates x samples, `observed` groups x samples; returns groups x
    candidates.
    """
    centred = models - models.mean(axis=2, keepdims=True)
    obs = observed - observed.mean(axis=1, keepdims=True)
    var_m = (centred**2).sum(axis=2)
    cov = np.einsum("gvs,gs->gv", centred, obs)
    slope = np.minimum(np.where(var_m > 1e-9, cov / np.maximum(var_m, 1e-9), 0.0), 0.0)
    energy = (obs**2).sum(axis=1, keepdims=True)
    return np.asarray(energy - 2 * slope * cov + slope**2 * var_m, np.float64)


def _ends(profile: np.ndarray) -> tuple[float, float] | None:
    """Left and right ends of the symbol: where the quiet zones on either side stop.

    A quiet zone is the first long light run met walking out from the middle (at least ten
    modules wide, while blur keeps the spaces inside a symbol from reaching the paper's
    lightness); the crossing of the half-way level there is the symbol's edge.
    """
    light = float(np.percentile(profile, 95))
    dark = float(np.percentile(profile, 5))
    if light - dark < 8:
        return None
    light_enough = profile > light - 0.25 * (light - dark)
    below = np.flatnonzero(profile < (light + dark) / 2)
    if below.size < 2:
        return None
    minimum_run = max(6, int(0.025 * (below[-1] - below[0])))
    middle = int(below[0] + below[-1]) // 2

    def walk(step: int) -> int | None:
        run = 0
        position = middle
        while 0 <= position < profile.size:
            run = run + 1 if light_enough[position] else 0
            if run >= minimum_run:
                return position - step * (run - 1)  # first light sample after the symbol
            position += step
        return None

    left, right = walk(-1), walk(1)
    if left is None or right is None or right - left < 20:
        return None
    return float(left), float(right)


def decode(
    profile: np.ndarray,
    kernel: np.ndarray,
    count: int | None = None,
    *,
    deadline: float = math.inf,
) -> FitRead | None:
    """The Code 128 symbol in `profile` (dark bars low), blurred by `kernel`, or None.

    `count` (characters from start to check) skips the search for it, for a second band of
    a symbol whose first band was read. Past `deadline` (`time.perf_counter()` seconds) the
    search for the count gives up: None, as for a profile that is no Code 128.
    """
    ends = _ends(profile)
    if ends is None:
        return None
    left, right = ends
    profile = profile.astype(np.float32)
    if count is None:
        scored = _count_errors(profile, kernel, left, right, deadline)
        if not scored:
            return None
        # A printed symbol has one module width: the right count fits far better than any
        # other. Blur mush fits many counts about equally, and is not read.
        if len(scored) > 1 and scored[0][0] > _COUNT_MARGIN * scored[1][0]:
            return None
        count = scored[0][1]
    results = sorted(_decode_count(profile, kernel, left, right, count), key=lambda r: r[0])
    if not results:
        return None
    error, read = results[0]
    runner_up = next((e for e, other in results[1:] if other.text != read.text), np.inf)
    lo, hi = max(int(read.left), 0), min(int(np.ceil(read.right)), profile.size)
    energy = float(profile[lo:hi].var()) * max(hi - lo, 1)
    if energy <= 0 or error / energy > _MAX_RESIDUAL or runner_up < _MIN_MARGIN * error:
        return None
    return read


def _count_errors(
    profile: np.ndarray, kernel: np.ndarray, left: float, right: float, deadline: float
) -> list[tuple[float, int]]:
    """(error, character count) pairs, best first, by the error of a quick greedy decode.

    Module widths are limited to those the blur leaves readable in principle (the blur at
    most 4.5 modules) and no wider than the blur: a symbol with wider modules was not
    blurred out, and the ordinary decoders read it.
    """
    taps = np.arange(kernel.size) - (kernel.size - 1) / 2
    blur = float(np.sqrt(12 * (kernel * taps**2).sum()))  # length of a box of equal spread
    smallest, largest = max(_MIN_MODULE, blur / 4.5), max(blur, 2 * _MIN_MODULE)
    scored: list[tuple[float, int]] = []
    for count in range(3, 120):
        module = (right - left) / (11 * count + 13)
        if module < smallest:
            break
        if module > largest:
            continue
        if time.perf_counter() >= deadline:
            return []  # a damaged symbol can take a second of counts: the photo's time is up
        limit = 3 * min(scored)[0] if scored else np.inf
        error = _greedy_error(profile, kernel, left, right, count, limit)
        if np.isfinite(error):
            scored.append((error, count))
    return sorted(scored)


def _fit_start(
    model: _Model, profile: np.ndarray, left: float, step: float
) -> tuple[float, float, int]:
    """Best (error, position, start character) near the left end: within half a kernel and
    a module of it, every `step` samples."""
    blank = np.zeros(profile.size, np.float32)
    reach = model.half + model.module
    ats = [left + offset for offset in np.arange(-reach, reach, step)]
    errors = model.batch_errors(profile, [blank] * len(ats), ats, _START_VALUES)
    row, index = divmod(int(np.argmin(errors)), errors.shape[1])
    return float(errors[row, index]), ats[row], int(_START_VALUES[index])


def _greedy_error(
    profile: np.ndarray, kernel: np.ndarray, left: float, right: float, count: int, limit: float
) -> float:
    """Error per sample of the best-first decode of `count` characters; inf past `limit`."""
    module = (right - left) / (11 * count + 13)
    model = _Model(module, kernel)
    error, position, start = _fit_start(model, profile, left, 0.5)
    if not np.isfinite(error):
        return np.inf
    canvas = np.zeros(profile.size, np.float32)
    model.add(canvas, start, position)
    position += 11 * module
    span = right - left
    for _ in range(count - 1):
        ats = [position + shift * module for shift in _SHIFTS]
        errors = model.batch_errors(profile, [canvas] * len(ats), ats)
        flat = int(np.argmin(errors))
        row, value = divmod(flat, errors.shape[1])
        step, at = float(errors[row, value]), ats[row]
        if not np.isfinite(step):
            return np.inf
        error += step
        if error / span > limit:
            return np.inf
        model.add(canvas, value, at)
        position = at + 11 * module
    return error / span


def _decode_count(
    profile: np.ndarray, kernel: np.ndarray, left: float, right: float, count: int
) -> list[tuple[float, FitRead]]:
    """Best sequences of `count` characters (start, data, check) between the symbol's ends."""
    module = (right - left) / (11 * count + 13)
    model = _Model(module, kernel)
    # The start character fixes the left end; the module width follows from both ends.
    start_error, origin, start = _fit_start(model, profile, left, 0.25)
    if not np.isfinite(start_error):
        return []
    module = (right - origin) / (11 * count + 13)
    if abs(module - model.module) > 0.002 * model.module:
        model = _Model(module, kernel)
    canvas = np.zeros(profile.size, np.float32)
    model.add(canvas, start, origin)
    # Beam entries: (error, values, position of the next character, canvas drawn so far).
    beam: list[tuple[float, list[int], float, np.ndarray]] = [
        (start_error, [start], origin + 11 * module, canvas)
    ]
    for _ in range(count - 1):  # data characters and the check character
        grown: list[tuple[float, list[int], float, int, np.ndarray]] = []
        pairs = [(entry, entry[2] + shift * module) for entry in beam for shift in _SHIFTS]
        errors = model.batch_errors(
            profile, [entry[3] for entry, _ in pairs], [at for _, at in pairs]
        )
        for (entry, at), row in zip(pairs, errors, strict=True):
            error, values, _, drawn = entry
            for value in np.argsort(row)[:_BEAM]:
                if np.isfinite(row[value]):
                    grown.append(
                        (error + float(row[value]), [*values, int(value)], at, int(value), drawn)
                    )
        grown.sort(key=lambda item: item[0])
        beam = []
        seen: set[tuple[int, ...]] = set()
        for error, values, at, value, drawn in grown:
            key = tuple(values)
            if key in seen:
                continue
            seen.add(key)
            canvas = drawn.copy()
            model.add(canvas, value, at)
            beam.append((error, values, at + 11 * module, canvas))
            if len(beam) == _BEAM:
                break
    results = []
    for error, values, position, drawn in beam:
        if not _check_ok(values):
            continue
        text = _text(values)
        if text is None:
            continue
        symbology_id, body = text
        total = error + model.stop_error(profile, drawn, position)
        results.append((total, FitRead(symbology_id, body, origin, position + 13 * module, count)))
    return results


def _check_ok(values: list[int]) -> bool:
    if len(values) < 3:
        return False
    data, check = values[:-1], values[-1]
    total = data[0] + sum(index * value for index, value in enumerate(data[1:], start=1))
    return total % 103 == check


def _text(values: list[int]) -> tuple[str, str] | None:
    """AIM identifier and text of the data characters (start first, check last), or None."""
    start, data = values[0], values[1:-1]
    code = {_START_A: "A", _START_B: "B", _START_C: "C"}[start]
    gs1 = bool(data) and data[0] == _FNC1
    out: list[str] = []
    shift_next = False
    for position, value in enumerate(data):
        current = code
        if shift_next:
            current = "B" if code == "A" else "A"
            shift_next = False
        if value >= _START_A:
            return None
        if value == _FNC1:
            if position == 0 and gs1:
                continue
            if not gs1:
                return None  # FNC1 elsewhere: a format this reader does not report
            out.append("\x1d")
            continue
        if current == "C":
            if value < 100:
                out.append(f"{value:02d}")
            elif value == _CODE_B_OR_FNC4:
                code = "B"
            elif value == _CODE_A_OR_FNC4:
                code = "A"
            else:
                return None
            continue
        if value == _CODE_C:
            code = "C"
        elif value == _SHIFT:
            shift_next = True
        elif current == "A" and value == _CODE_B_OR_FNC4:
            code = "B"
        elif current == "B" and value == _CODE_A_OR_FNC4:
            code = "A"
        elif value >= 96:
            return None  # FNC2, FNC3, FNC4: not used on labels
        elif current == "B" or value < 64:
            out.append(chr(32 + value))
        else:
            return None  # control characters of set A
    text = "".join(out)
    if not text:
        return None
    return ("]C1" if gs1 else "]C0"), text
