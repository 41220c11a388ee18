"""Deblurring views: Wiener deconvolution for defocus and motion blur.

The blur of a photo is not known, so a small bank of point spread functions is tried, in
order of how common they are on hand-held label photos: defocus (Gaussian) first, then
motion along a few directions. Each view is only looked at when the cheaper ones failed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import cv2
import numpy as np

_NOISE_TO_SIGNAL = 0.01  # Wiener regularisation: higher is smoother, lower rings more


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
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT)
    rows, cols = padded.shape
    kernel = np.zeros((rows, cols), np.float32)
    size = psf.shape[0]
    kernel[:size, :size] = psf
    kernel = np.roll(kernel, (-(size // 2), -(size // 2)), axis=(0, 1))
    spectrum = np.fft.rfft2(padded.astype(np.float32))
    transfer = np.fft.rfft2(kernel)
    restored = np.fft.irfft2(
        spectrum * np.conj(transfer) / (np.abs(transfer) ** 2 + nsr), s=(rows, cols)
    )
    cropped = restored[pad : pad + height, pad : pad + width]
    return np.asarray(np.clip(cropped, 0, 255).astype(np.uint8))


def deblur_views(image: np.ndarray, *, scale: float = 1.0) -> Iterator[tuple[str, np.ndarray]]:
    """Deconvolved versions of a matrix symbol's view, most likely blur first.

    `scale` is the view's magnification: blur sizes are in original image pixels. (Linear
    symbols are deblurred in 1-D, on scan-line profiles: see `gateway.barcodes.profiles`.)
    """
    for sigma in (1.2, 2.0):
        size = int(sigma * scale * 6) | 1
        yield f"wiener-gauss{sigma}", wiener(image, gaussian_psf(sigma * scale, size))
    for angle in (0.0, 45.0, 90.0, 135.0):
        psf = motion_psf(7.0 * scale, angle)
        yield f"wiener-motion7@{angle:.0f}", wiener(image, psf)
