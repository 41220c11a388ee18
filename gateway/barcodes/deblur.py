"""Deblurring views: Wiener deconvolution for defocus and motion blur.

The blur of a photo is not known. Defocus is tried with two Gaussian sizes. Camera motion
blurs the whole photo alike, so its length and direction are estimated once per photo from
the cepstrum (the spectrum of the log spectrum): a straight motion of length L puts a
periodic row of zeros in the spectrum, which shows as a negative peak at distance L, in the
motion's direction, from the cepstrum's origin. Candidate kernels around that estimate are
ranked by how two-toned the symbol comes out (`two_tone`), and only the best are decoded.
Each view is only looked at when the cheaper ones failed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import cv2
import numpy as np

_NOISE_TO_SIGNAL = 0.01  # Wiener regularisation: higher is smoother, lower rings more
_CEPSTRUM_WINDOW = 512  # px, the middle of the photo: enough texture for a stable estimate
_MOTION_LENGTHS = np.arange(4.0, 20.01, 0.5)  # px searched in the cepstrum
_MOTION_ANGLES = np.arange(0.0, 180.0, 3.0)  # degrees, image axes (y down)
_LENGTH_STEPS = (0.0, -0.5, 0.5, -1.0, 1.0)  # around the estimate, px
_ANGLE_STEPS = (0.0, -5.0, 5.0, -10.0, 10.0)  # around the estimate, degrees


def estimate_motion(gray: np.ndarray) -> tuple[float, float]:
    """Length (px) and direction (degrees) of straight camera motion, from the cepstrum.

    Always returns an estimate; on a sharp photo it is meaningless, which costs only the
    views built from it (they are decoded after the cheaper ones and accepted on the same
    terms as any other).
    """
    height, width = gray.shape[:2]
    side = min(_CEPSTRUM_WINDOW, height, width)
    top, left = (height - side) // 2, (width - side) // 2
    window = gray[top : top + side, left : left + side].astype(np.float32)
    taper = np.outer(np.hanning(side), np.hanning(side)).astype(np.float32)
    spectrum = np.abs(np.fft.fft2((window - window.mean()) * taper))
    cepstrum = np.fft.fftshift(np.real(np.fft.ifft2(np.log(spectrum + 1e-3)))).astype(np.float32)
    radians = np.radians(_MOTION_ANGLES)
    xs = side // 2 + np.outer(_MOTION_LENGTHS, np.cos(radians))
    ys = side // 2 + np.outer(_MOTION_LENGTHS, np.sin(radians))
    values = cv2.remap(cepstrum, xs.astype(np.float32), ys.astype(np.float32), cv2.INTER_LINEAR)
    row, column = np.unravel_index(int(np.argmin(values)), values.shape)
    return float(_MOTION_LENGTHS[row]), float(_MOTION_ANGLES[column])


def two_tone(image: np.ndarray) -> float:
    """Otsu's between-class share of the variance, 0 to 1: how two-toned an image is."""
    histogram = cv2.calcHist([image], [0], None, [256], [0, 256]).ravel().astype(np.float64)
    total = histogram.sum()
    if total <= 0:
        return 0.0
    levels = np.arange(256, dtype=np.float64)
    weight = np.cumsum(histogram) / total
    mean = np.cumsum(histogram * levels) / total
    overall = mean[-1]
    variance = float((histogram * (levels - overall) ** 2).sum() / total)
    if variance <= 1e-9:
        return 0.0
    inner = weight[:-1] * (1 - weight[:-1])
    between = np.where(
        inner > 0, (overall * weight[:-1] - mean[:-1]) ** 2 / np.maximum(inner, 1e-12), 0
    )
    return float(between.max() / variance)


def motion_views(
    image: np.ndarray, motion: tuple[float, float], limit: int = 3
) -> Iterator[tuple[str, np.ndarray]]:
    """`image` (at the photo's own scale) deconvolved by the `limit` motion kernels near the
    estimate `motion` that leave it most two-toned, best first."""
    length, angle = motion
    ranked = []
    for step_l in _LENGTH_STEPS:
        for step_a in _ANGLE_STEPS:
            size, direction = length + step_l, (angle + step_a) % 180.0
            if size < 2.0:
                continue
            restored = wiener(image, motion_psf(size, direction))
            ranked.append((two_tone(restored), size, direction, restored))
    ranked.sort(key=lambda item: -item[0])
    for _, size, direction, restored in ranked[:limit]:
        yield f"wiener-motion{size:g}@{direction:.0f}", restored


def gaussian_psf(sigma: float, size: int) -> np.ndarray:
    """A normalised Gaussian point spread function of `size` x `size` pixels."""
    axis = np.arange(size, dtype=np.float32) - (size - 1) / 2
    kernel = np.exp(-(axis[:, None] ** 2 + axis[None, :] ** 2) / (2 * sigma**2))
    return np.asarray(kernel / kernel.sum(), np.float32)


def motion_psf(length: float, angle: float) -> np.ndarray:
    """A normalised linear motion point spread function (`angle` in degrees)."""
    size = math.ceil(length) | 1
    kernel = np.zeros((size, size), np.float32)
    center = (size - 1) / 2
    theta = math.radians(angle)
    dx, dy = math.cos(theta) * (length - 1) / 2, math.sin(theta) * (length - 1) / 2
    cv2.line(
        kernel,
        (round((center - dx) * 16), round((center - dy) * 16)),
        (round((center + dx) * 16), round((center + dy) * 16)),
        1.0,
        1,
        cv2.LINE_AA,
        shift=4,
    )
    total = float(kernel.sum())
    if total <= 0:
        kernel[int(center), int(center)] = 1.0
        total = 1.0
    return np.asarray(kernel / total, np.float32)


def wiener(image: np.ndarray, psf: np.ndarray, nsr: float = _NOISE_TO_SIGNAL) -> np.ndarray:
    """Wiener deconvolution of an 8-bit image by `psf`; returns an 8-bit image."""
    height, width = image.shape[:2]
    pad = psf.shape[0] * 2
    # Padded to sizes the FFT factors well: a side with a large prime factor costs up to ten
    # times as much as the next friendly size. OpenCV's single-precision DFT, as well.
    rows = cv2.getOptimalDFTSize(height + 2 * pad)
    cols = cv2.getOptimalDFTSize(width + 2 * pad)
    padded = cv2.copyMakeBorder(
        image, pad, rows - height - pad, pad, cols - width - pad, cv2.BORDER_REFLECT
    ).astype(np.float32)
    kernel = np.zeros((rows, cols), np.float32)
    size = psf.shape[0]
    kernel[:size, :size] = psf
    kernel = np.roll(kernel, (-(size // 2), -(size // 2)), axis=(0, 1))
    spectrum = cv2.dft(padded, flags=cv2.DFT_COMPLEX_OUTPUT)
    transfer = cv2.dft(kernel, flags=cv2.DFT_COMPLEX_OUTPUT)
    power = transfer[..., 0] ** 2 + transfer[..., 1] ** 2 + nsr
    restored = cv2.mulSpectrums(spectrum, transfer, 0, conjB=True) / power[..., None]
    spatial = cv2.idft(restored, flags=cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE)
    cropped = spatial[pad : pad + height, pad : pad + width]
    return np.asarray(np.clip(cropped, 0, 255).astype(np.uint8))


def defocus_views(image: np.ndarray, *, scale: float = 1.0) -> Iterator[tuple[str, np.ndarray]]:
    """Versions of a matrix symbol's view deconvolved for defocus, the commoner blur first.

    `scale` is the view's magnification: blur sizes are in original image pixels. (Linear
    symbols are deblurred in 1-D, on scan-line profiles: see `gateway.barcodes.profiles`.)
    """
    for sigma in (1.2, 2.0):
        size = int(sigma * scale * 6) | 1
        yield f"wiener-gauss{sigma}", wiener(image, gaussian_psf(sigma * scale, size))
