"""NIQE, the no-reference "naturalness" score of Mittal, Soundararajan and Bovik ("Making a
'completely blind' image quality analyzer", IEEE Signal Processing Letters 20(3), 2013): the
distance between a multivariate Gaussian fitted to the natural-scene statistics of an image's
patches and one fitted to those of pristine photographs. Lower is more natural.

Per patch (96 px, and 48 px at half resolution) 18 statistics of the mean-subtracted,
contrast-normalised (MSCN) luminance, as the published code computes them: the shape and scale
of an asymmetric generalised Gaussian fitted to it, and the shape, mean and left and right
scales of one fitted to the products of horizontal, vertical and both diagonal neighbours. The pristine model ships with the package (``niqe_pristine.json``);
``tools/fit_niqe.py`` fits it again, or on your own pristine photographs, with
:func:`fit_pristine`. Nothing is downloaded.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
from scipy.special import gamma

__all__ = ["PATCH", "fit_pristine", "niqe", "patch_features"]

PATCH = 96  # patch side at full resolution (half of it at half resolution)
SHARPNESS_SHARE = 0.75  # pristine patches kept: local contrast at least this share of the most

_ALPHAS = np.arange(0.2, 10.0, 0.001)
_GGD_RATIO = gamma(1 / _ALPHAS) * gamma(3 / _ALPHAS) / gamma(2 / _ALPHAS) ** 2


def _luminance(image: np.ndarray) -> np.ndarray:
    # the MSCN's +1 in the denominator assumes 0..255 levels
    if image.dtype != np.uint8 or not (image.ndim == 2 or image.ndim == 3 and image.shape[2] == 3):
        raise ValueError(
            f"NIQE needs a uint8 RGB [H, W, 3] or grey [H, W] image, got {image.dtype} "
            f"{list(image.shape)}"
        )
    if image.ndim == 3:
        image = image.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    return image.astype(np.float64)


def _mscn(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MSCN coefficients and the local contrast σ (Gaussian window of 7 px, σ = 7/6)."""
    mu = cv2.GaussianBlur(grey, (7, 7), 7 / 6, borderType=cv2.BORDER_REPLICATE)
    var = cv2.GaussianBlur(grey * grey, (7, 7), 7 / 6, borderType=cv2.BORDER_REPLICATE) - mu * mu
    sigma = np.sqrt(np.abs(var))
    return (grey - mu) / (sigma + 1), sigma


def _aggd(x: np.ndarray) -> tuple[float, float, float]:
    """Shape and left and right scales (β) of an asymmetric generalised Gaussian, by moment
    matching (the published estimateaggdparam)."""
    left, right = x[x < 0], x[x > 0]
    sl = np.sqrt(np.mean(left * left)) if left.size else 1e-6
    sr = np.sqrt(np.mean(right * right)) if right.size else 1e-6
    g = sl / max(sr, 1e-12)
    r_hat = np.mean(np.abs(x)) ** 2 / (np.mean(x * x) + 1e-12)
    r = r_hat * (g**3 + 1) * (g + 1) / (g**2 + 1) ** 2
    alpha = float(_ALPHAS[np.argmin(np.abs(1 / _GGD_RATIO - r))])
    scale = np.sqrt(gamma(1 / alpha) / gamma(3 / alpha))
    return alpha, float(sl * scale), float(sr * scale)


def _statistics(mscn: np.ndarray) -> list[float]:
    """The AGGD of the coefficients (shape, mean scale), then of the products of each with its
    right, lower, lower-right and upper-right neighbour, wrapped around the patch (shape, mean,
    left and right scales)."""
    alpha, left, right = _aggd(mscn)
    features = [alpha, (left + right) / 2]
    for shift in ((0, 1), (1, 0), (1, 1), (-1, 1)):
        alpha, left, right = _aggd(mscn * np.roll(mscn, shift, axis=(0, 1)))
        mean = (right - left) * gamma(2 / alpha) / gamma(1 / alpha)
        features += [alpha, mean, left, right]
    return features


def patch_features(image: np.ndarray, sharp_only: bool = False) -> np.ndarray:
    """``float64 [patches, 36]``: the statistics of every whole ``PATCH``-pixel patch of
    ``image`` (``uint8`` RGB or grey), at full and half resolution; with ``sharp_only``, only the
    patches whose local contrast is at least :data:`SHARPNESS_SHARE` of the sharpest's (how the
    pristine model is fitted)."""
    grey = _luminance(image)
    h, w = (s - s % PATCH for s in grey.shape)
    if h == 0 or w == 0:
        raise ValueError(f"NIQE needs an image of at least {PATCH}×{PATCH} pixels")
    grey = grey[:h, :w]
    # antialiased, as MATLAB's imresize(0.5) in the published code
    half = cv2.resize(grey, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    scales = []
    for level, picture in enumerate((grey, half)):
        mscn, sigma = _mscn(picture)
        p = PATCH >> level
        rows = []
        for y in range(0, picture.shape[0] - p + 1, p):
            for x in range(0, picture.shape[1] - p + 1, p):
                rows.append(
                    (_statistics(mscn[y : y + p, x : x + p]), sigma[y : y + p, x : x + p].mean())
                )
        scales.append(rows)
    features = np.array([a[0] + b[0] for a, b in zip(*scales)])
    if sharp_only:
        contrast = np.array([a[1] for a in scales[0]])
        features = features[contrast >= SHARPNESS_SHARE * contrast.max()]
    return features


def fit_pristine(images: list[np.ndarray]) -> dict:
    """The pristine model (mean and covariance of the sharp patches' statistics) of ``images``
    (each at least ``PATCH`` pixels a side)."""
    if not images:
        raise ValueError("no pristine photographs given")
    features = np.concatenate([patch_features(im, sharp_only=True) for im in images])
    if len(features) <= 36:
        raise ValueError(f"{len(features)} sharp patches cannot fit a 36-dimensional covariance")
    return {
        "mean": features.mean(0).tolist(),
        "cov": np.cov(features, rowvar=False).tolist(),
        "patches": len(features),
    }


@lru_cache(maxsize=1)
def _shipped() -> tuple[np.ndarray, np.ndarray]:
    text = resources.files("affine_sr").joinpath("niqe_pristine.json").read_text()
    model = json.loads(text)
    return np.array(model["mean"]), np.array(model["cov"])


def niqe(image: np.ndarray, model: dict | str | Path | None = None) -> float:
    """NIQE of ``image`` (``uint8`` RGB or grey, at least ``PATCH`` pixels a side) against the
    shipped pristine model, or ``model`` (a :func:`fit_pristine` dict or its JSON file)."""
    if model is None:
        mean, cov = _shipped()
    else:
        if not isinstance(model, dict):
            model = json.loads(Path(model).read_text())
        mean, cov = np.array(model["mean"]), np.array(model["cov"])
    features = patch_features(image)
    mu = features.mean(0)
    sigma = np.cov(features, rowvar=False) if len(features) > 1 else np.zeros_like(cov)
    d = mean - mu
    return float(np.sqrt(d @ np.linalg.pinv((cov + sigma) / 2) @ d))
