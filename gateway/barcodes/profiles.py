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

import numpy as np

# (name, kind, size in original pixels, noise-to-signal ratio), ordered by measured yield on
# blurred label photos: defocus and short motion first, long motion last.
_KERNELS: tuple[tuple[str, str, float, float], ...] = (
    ("gauss1.5", "gauss", 1.5, 0.01),
    ("box7.5", "box", 7.5, 0.02),
    ("box6", "box", 6.0, 0.02),
    ("gauss2", "gauss", 2.0, 0.01),
    ("box4.5", "box", 4.5, 0.02),
    ("box7", "box", 7.0, 0.01),
    ("box8", "box", 8.0, 0.01),
    ("gauss1", "gauss", 1.0, 0.01),
    ("box6.5", "box", 6.5, 0.01),
    ("box9", "box", 9.0, 0.02),
    ("box5.5", "box", 5.5, 0.01),
    ("box8.5", "box", 8.5, 0.01),
    ("box3", "box", 3.0, 0.02),
)
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


def normalised(profile: np.ndarray, scale: float) -> np.ndarray:
    """The profile with local contrast stretched: glare and shadow flatten the bars they cover.

    Mean and spread are taken over about ten modules (`scale` is the view's magnification of
    a module of about 2.5 px), so a bright spot becomes the same grey level as the rest.
    """
    window = max(9, round(25 * scale)) | 1
    kernel = np.ones(window, np.float64) / window
    padded = np.pad(profile.astype(np.float64), window, mode="edge")
    mean = np.convolve(padded, kernel, mode="same")[window:-window]
    power = np.convolve(padded**2, kernel, mode="same")[window:-window]
    spread = np.sqrt(np.maximum(power - mean**2, 0.0))
    # The floor keeps the quiet zones quiet: paper grain must not be stretched into bars.
    floor = max(2.0, 0.15 * float(np.percentile(spread, 90)))
    flat = (profile - mean) / np.maximum(spread, floor)
    return np.asarray(128 + 50 * np.clip(flat, -2.5, 2.5), np.float32)


def draw(profile: np.ndarray) -> np.ndarray:
    """The profile as an 8-bit image of identical rows, with a margin of its edge values."""
    line = np.clip(profile, 0, 255).astype(np.uint8)
    image = np.tile(line, (_ROWS, 1))
    return np.pad(image, ((0, 0), (PAD, PAD)), mode="edge")


def restored(profile: np.ndarray, scale: float) -> Iterator[tuple[str, np.ndarray]]:
    """The profile deconvolved by each kernel of the bank; sizes scale with the view."""
    kernels = [
        (name, _box(size * scale) if kind == "box" else _gauss(size * scale), nsr)
        for name, kind, size, nsr in _KERNELS
    ]
    # One padding for the whole bank, so the profile's spectrum is computed once.
    pad = max(kernel.size for _, kernel, _ in kernels) * 3
    padded = np.pad(profile.astype(np.float64), pad, mode="edge")
    spectrum = np.fft.rfft(padded)
    for name, kernel, nsr in kernels:
        yield name, _wiener(spectrum, padded.size, pad, profile.size, kernel, nsr)


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
