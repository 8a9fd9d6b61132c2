"""PSNR and SSIM as super-resolution papers report them: on the Y channel of YCbCr (ITU-R BT.601)
or on RGB, with ``crop`` border pixels left out; a detail ratio, so "sharper" is measured; GMSD
(gradient magnitude similarity deviation, Xue et al. 2014, from piq), a full-reference structural
score with no learned weights; and NIQE (:mod:`affine_sr.niqe`), a no-reference one."""

from __future__ import annotations

import numpy as np

from affine_sr.niqe import niqe

__all__ = ["DETAIL_SIGMA", "detail_ratio", "gmsd", "niqe", "noise_sigma", "psnr", "ssim", "to_y"]

_IMMERKAER = np.float32([[1, -2, 1], [-2, 4, -2], [1, -2, 1]])


def noise_sigma(grey: np.ndarray) -> float:
    """Immerkær's estimate of the standard deviation of additive noise in ``grey`` (float):
    the mean absolute response to a mask that cancels locally planar image structure."""
    import cv2

    h, w = grey.shape
    if h < 3 or w < 3:
        return 0.0
    response = cv2.filter2D(grey, cv2.CV_32F, _IMMERKAER)[1:-1, 1:-1]
    return float(np.sqrt(np.pi / 2) * np.abs(response).mean() / 6)


# the high-pass of detail_ratio: Y minus its Gaussian blur of this σ (pixels)
DETAIL_SIGMA = 1.5


def to_y(rgb: np.ndarray) -> np.ndarray:
    """Y of ``uint8`` RGB in [16, 235], as MATLAB's ``rgb2ycbcr``, as float64."""
    x = rgb.astype(np.float64) / 255
    return 16 + 65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2]


def _prepare(a: np.ndarray, b: np.ndarray, y_channel: bool, crop: int):
    if a.shape != b.shape:
        raise ValueError(f"images differ in size: {a.shape} and {b.shape}")
    if crop:
        a, b = a[crop:-crop, crop:-crop], b[crop:-crop, crop:-crop]
    if y_channel:
        return to_y(a), to_y(b)
    return a.astype(np.float64), b.astype(np.float64)


def psnr(a: np.ndarray, b: np.ndarray, y_channel: bool = True, crop: int = 0) -> float:
    """Peak signal-to-noise ratio in dB of two ``uint8 [H, W, 3]`` images."""
    a, b = _prepare(a, b, y_channel, crop)
    mse = np.mean((a - b) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def ssim(a: np.ndarray, b: np.ndarray, y_channel: bool = True, crop: int = 0) -> float:
    """Structural similarity (Gaussian window, σ = 1.5, as Wang et al. 2004) of two images."""
    from skimage.metrics import structural_similarity

    a, b = _prepare(a, b, y_channel, crop)
    return float(
        structural_similarity(
            a,
            b,
            data_range=255.0,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            channel_axis=None if y_channel else -1,
        )
    )


def detail_ratio(out: np.ndarray, reference: np.ndarray, crop: int = 0) -> float:
    """High-pass energy of ``out`` over that of ``reference`` (1.0: as much fine detail as the
    truth; below: smoother; above: sharper or noisier). The high-pass is Y minus its Gaussian
    blur with σ = :data:`DETAIL_SIGMA` pixels; energy is the mean square over the image."""
    import cv2

    a, b = _prepare(out, reference, True, crop)

    def energy(y: np.ndarray) -> float:
        return float(np.mean((y - cv2.GaussianBlur(y, (0, 0), DETAIL_SIGMA)) ** 2))

    return energy(a) / max(energy(b), 1e-12)


def gmsd(out: np.ndarray, reference: np.ndarray, crop: int = 0) -> float:
    """GMSD of two ``uint8 [H, W, 3]`` images (piq's, on its luminance at half resolution): the
    deviation of the local gradient-magnitude similarity; 0 for identical images, lower is
    better."""
    import piq
    import torch

    a, b = _prepare(out, reference, False, crop)
    x, y = (torch.from_numpy(v / 255).permute(2, 0, 1)[None].float() for v in (a, b))
    return float(piq.gmsd(x, y, data_range=1.0))
