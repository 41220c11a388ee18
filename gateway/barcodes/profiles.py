"""Reading a linear symbol from scan-line profiles: averaging along the bars, deblurring across.

Once a linear region is turned so its bars stand upright, every row crosses the same bars.
Averaging the rows of a band is a strong denoiser (JPEG blocks, sensor noise, print voids) and
cancels any blur *along* the bars, whatever the direction of the camera motion; what is left is
blur *across* the bars, a 1-D convolution of the profile. A 1-D Wiener deconvolution undoes it,
and because a profile is only a thousand samples, a whole bank of blur kernels costs less than
one 2-D deconvolution. Each restored profile is drawn as a short image and given to the
decoders, whose check characters (and the acceptance rules) sort right from wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

# The blur across the bars is not known, so it is estimated per region: the profile is
# deconvolved by a grid of box (motion) and Gaussian (defocus) kernels, sizes in original
# pixels, and the restorations are ranked by how two-levelled they come out (a barcode is
# printed in two tones; a wrong kernel leaves grey or rings). Only the best few are decoded.
_BOX_LENGTHS = tuple(float(x) for x in np.arange(2.0, 14.01, 0.5))
_GAUSS_SIGMAS = tuple(float(x) for x in np.arange(0.8, 3.21, 0.2))
_NOISE_TO_SIGNAL = (0.005, 0.01)
_REFINE = {"box": 0.25, "gauss": 0.1}  # step of the second, finer pass around the best
_ROWS = 8  # rows of the image a profile is drawn into: enough for the decoders to agree
PAD = 40  # light margin added left and right of a drawn profile, px


def band_profiles(crop: np.ndarray, bar_top: float, bar_bottom: float) -> list[np.ndarray]:
    """Row-averaged profiles of three bands across the bars (between rows bar_top/bottom)."""
    height = bar_bottom - bar_top
    profiles = []
    for start in (0.15, 0.4, 0.65):
        top = int(max(0, bar_top + start * height))
        bottom = int(min(crop.shape[0], bar_top + (start + 0.2) * height))
        if bottom - top >= 1:
            profiles.append(crop[top:bottom].astype(np.float32).mean(axis=0))
    return profiles


def normalised(
    profile: np.ndarray, scale: float, modules: float = 10.0, floor_share: float = 0.15
) -> np.ndarray:
    """The profile with local contrast stretched: glare and shadow flatten the bars they cover.

    Mean and spread are taken over about `modules` modules (`scale` is the view's
    magnification of a module of about 2.5 px), so a bright spot becomes the same grey level
    as the rest. `floor_share` of the typical spread is the least spread stretched.
    """
    window = max(9, round(2.5 * modules * scale)) | 1
    kernel = np.ones(window, np.float64) / window
    padded = np.pad(profile.astype(np.float64), window, mode="edge")
    mean = np.convolve(padded, kernel, mode="same")[window:-window]
    power = np.convolve(padded**2, kernel, mode="same")[window:-window]
    spread = np.sqrt(np.maximum(power - mean**2, 0.0))
    # The floor keeps the quiet zones quiet: paper grain must not be stretched into bars.
    floor = max(2.0, floor_share * float(np.percentile(spread, 90)))
    flat = (profile - mean) / np.maximum(spread, floor)
    return np.asarray(128 + 50 * np.clip(flat, -2.5, 2.5), np.float32)


def paper_referenced(
    profile: np.ndarray, scale: float, modules: float = 10.0, floor_share: float = 0.15
) -> np.ndarray:
    """The profile measured down from the paper: uneven light (a shadow, a lamp to one side)
    ramps the paper's tone along the scan line.

    The paper's and the bars' tones are the running maximum and minimum over about `modules`
    modules, smoothed; each sample is drawn by how far it lies below the paper, as a share of
    the local contrast. A quiet zone stays light (it lies at the paper's tone), where
    `normalised` draws it mid-grey: a decoder that sets one threshold per scan line (as
    zxing-cpp does for linear symbols) then takes the quiet zone of a ramped profile for a
    bar. `floor_share` of the typical contrast is the least contrast stretched.
    """
    window = max(9, round(2.5 * modules * scale)) | 1
    line = profile.astype(np.float32).reshape(1, -1)
    element = np.ones((1, window), np.uint8)
    paper = cv2.dilate(line, element, borderType=cv2.BORDER_REPLICATE)
    ink = cv2.erode(line, element, borderType=cv2.BORDER_REPLICATE)
    paper = cv2.blur(paper, (window, 1), borderType=cv2.BORDER_REPLICATE).ravel()
    ink = cv2.blur(ink, (window, 1), borderType=cv2.BORDER_REPLICATE).ravel()
    contrast = paper - ink
    floor = max(2.0, floor_share * float(np.percentile(contrast, 90)))
    below = (paper - profile) / np.maximum(contrast, floor)
    return np.asarray(np.clip(255 * (1 - below), 0, 255), np.float32)


def draw(profile: np.ndarray) -> np.ndarray:
    """The profile as an 8-bit image of identical rows, with a margin of its edge values."""
    line = np.clip(profile, 0, 255).astype(np.uint8)
    image = np.tile(line, (_ROWS, 1))
    return np.pad(image, ((0, 0), (PAD, PAD)), mode="edge")


def bimodality(profile: np.ndarray) -> float:
    """How two-levelled a profile is: Otsu's between-class share of its variance, 0 to 1.

    Measured over the middle 80 %, away from the padding at the ends.
    """
    size = profile.size
    values = np.sort(profile[size // 10 : size - size // 10].astype(np.float64))
    count = values.size
    if count < 4:
        return 0.0
    variance = float(values.var())
    if variance <= 1e-9:
        return 0.0
    cumulative = np.cumsum(values)
    below = np.arange(1, count)
    weight = below / count
    mean_low = cumulative[:-1] / below
    mean_high = (cumulative[-1] - cumulative[:-1]) / (count - below)
    between = weight * (1 - weight) * (mean_low - mean_high) ** 2
    return float(between.max() / variance)


def bands_agree(bands: list[np.ndarray], minimum: float = 0.5) -> bool:
    """True when the outer bands cross the same bars, as in every one-row linear symbol.

    Rows of a stacked symbol (DataBar Stacked, DataBar Expanded Stacked) carry different
    bars; blur of any kind blurs every band alike, so it leaves the agreement of a one-row
    symbol's bands intact. Compared piecewise with a small shift, for perspective.
    """
    if len(bands) < 2:
        return True
    first, last = bands[0] - bands[0].mean(), bands[-1] - bands[-1].mean()
    scores = []
    for piece in np.array_split(np.arange(first.size), 4):
        if piece.size < 16:
            continue
        a, b = first[piece], last[piece]
        lag_limit = max(2, piece.size // 20)
        best = -1.0
        for lag in range(-lag_limit, lag_limit + 1):
            x = a[max(0, lag) : a.size + min(0, lag)]
            y = b[max(0, -lag) : b.size + min(0, -lag)]
            x, y = x - x.mean(), y - y.mean()
            denom = float(np.linalg.norm(x) * np.linalg.norm(y))
            if denom > 0:
                best = max(best, float(np.dot(x, y)) / denom)
        scores.append(best)
    return not scores or float(np.mean(scores)) >= minimum


def kernel(kind: str, size: float, scale: float) -> np.ndarray:
    """The 1-D blur kernel `kind` ("box" or "gauss") of `size` original pixels, in view pixels."""
    return _box(size * scale) if kind == "box" else _gauss(size * scale)


@dataclass(frozen=True, slots=True)
class Ranking:
    """Blur kernels for some bands, most restoring first, with the bands' padded spectra, so
    restoring by a chosen kernel costs one inverse transform per band."""

    kernels: list[tuple[str, float, float]]  # (kind, size in original px, noise-to-signal)
    spectra: list[np.ndarray]
    length: int  # samples of a band
    total: int  # samples of a padded band
    pad: int
    scale: float  # the view's magnification

    def restore(self, limit: int) -> Iterator[tuple[str, list[np.ndarray]]]:
        """The bands deconvolved by each of the first `limit` kernels."""
        for kind, size, nsr in self.kernels[:limit]:
            taps = kernel(kind, size, self.scale)
            restored = [
                _wiener(spectrum, self.total, self.pad, self.length, taps, nsr)
                for spectrum in self.spectra
            ]
            yield f"{kind}{size:g}@{nsr:g}", restored


def rank_kernels(bands: list[np.ndarray], scale: float) -> Ranking:
    """The blur kernels ranked on the middle band by `bimodality` of its restoration: a
    coarse grid, then a finer pass around the three best."""
    length = bands[0].size
    longest = max(max(_BOX_LENGTHS) + _REFINE["box"], 6 * (max(_GAUSS_SIGMAS) + 0.1))
    pad = int(longest * scale) * 3 + 3
    # Padded on the right up to a length the FFT factors well (a length with a large prime
    # factor costs several times as much).
    extra = cv2.getOptimalDFTSize(length + 2 * pad) - (length + 2 * pad)
    padded = [np.pad(band.astype(np.float64), (pad, pad + extra), mode="edge") for band in bands]
    total = padded[0].size
    spectra = [np.fft.rfft(line) for line in padded]
    reference = len(bands) // 2

    def candidate(kind: str, size: float, nsr: float) -> tuple[float, str, float, float]:
        restored = _wiener(spectra[reference], total, pad, length, kernel(kind, size, scale), nsr)
        return bimodality(restored), kind, size, nsr

    grid = [("box", size) for size in _BOX_LENGTHS] + [("gauss", s) for s in _GAUSS_SIGMAS]
    scored = {
        (kind, size, nsr): candidate(kind, size, nsr)
        for kind, size in grid
        for nsr in _NOISE_TO_SIGNAL
    }
    for _, kind, size, nsr in sorted(scored.values(), reverse=True)[:3]:
        for finer in (size - _REFINE[kind], size + _REFINE[kind]):
            if finer > 0 and (kind, finer, nsr) not in scored:
                scored[(kind, finer, nsr)] = candidate(kind, finer, nsr)
    ranked = [(kind, size, nsr) for _, kind, size, nsr in sorted(scored.values(), reverse=True)]
    return Ranking(ranked, spectra, length, total, pad, scale)


def _wiener(
    spectrum: np.ndarray, total: int, pad: int, length: int, kernel: np.ndarray, nsr: float
) -> np.ndarray:
    line = np.zeros(total)
    line[: kernel.size] = kernel
    line = np.roll(line, -(kernel.size // 2))
    transfer = np.fft.rfft(line)
    restored = spectrum * np.conj(transfer) / (np.abs(transfer) ** 2 + nsr)
    return np.asarray(np.fft.irfft(restored, n=total)[pad : pad + length], np.float32)


def _box(length: float) -> np.ndarray:
    # A box of fractional length: full taps plus two partial ones at the ends.
    whole = max(1, int(length))
    rest = max(0.0, length - whole)
    taps = np.ones(whole, np.float64)
    if rest > 1e-3:
        taps = np.concatenate([[rest / 2], taps, [rest / 2]])
    return np.asarray(taps / taps.sum(), np.float64)


def _gauss(sigma: float) -> np.ndarray:
    size = int(sigma * 6) | 1
    axis = np.arange(size, dtype=np.float64) - (size - 1) / 2
    taps = np.exp(-(axis**2) / (2 * sigma**2))
    return np.asarray(taps / taps.sum(), np.float64)
