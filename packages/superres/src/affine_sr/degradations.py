"""Low-resolution inputs from high-resolution images: the Real-ESRGAN degradation model (Wang et
al., arXiv:2107.10833): blur, resize, noise and JPEG, applied twice ("second order"), then a final
resize to the target size, so a model trained on them copes with real, messy inputs."""

from __future__ import annotations

import cv2
import numpy as np

__all__ = [
    "bicubic_downscale",
    "bicubic_upscale",
    "degrade",
    "jpeg",
    "lanczos_upscale",
]

_INTERPOLATIONS = (cv2.INTER_AREA, cv2.INTER_LINEAR, cv2.INTER_CUBIC)


def bicubic_downscale(hr: np.ndarray, scale: int) -> np.ndarray:
    """The classic benchmark input: HR cropped to a multiple of ``scale``, then bicubic down with
    an antialiasing kernel as wide as the scale (like MATLAB's ``imresize``; OpenCV's cubic
    resize samples without prefiltering and aliases)."""
    from PIL import Image

    h, w = (s - s % scale for s in hr.shape[:2])
    small = Image.fromarray(hr[:h, :w]).resize((w // scale, h // scale), Image.Resampling.BICUBIC)
    return np.asarray(small)


def bicubic_upscale(lr: np.ndarray, scale: int) -> np.ndarray:
    """The bicubic baseline every SR method must beat (same kernel as :func:`bicubic_downscale`)."""
    from PIL import Image

    h, w = lr.shape[:2]
    return np.asarray(Image.fromarray(lr).resize((w * scale, h * scale), Image.Resampling.BICUBIC))


def lanczos_upscale(lr: np.ndarray, scale: int) -> np.ndarray:
    """Lanczos-3 resampling (PIL), the sharper classical resize a user reaches for."""
    from PIL import Image

    h, w = lr.shape[:2]
    return np.asarray(Image.fromarray(lr).resize((w * scale, h * scale), Image.Resampling.LANCZOS))


def _blur(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    size = int(rng.choice([7, 9, 11, 13, 15, 17, 19, 21]))
    sx, sy = rng.uniform(0.2, 3.0, 2)
    if rng.random() < 0.5:  # isotropic
        sy = sx
    theta = rng.uniform(0, np.pi)
    r = size // 2
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1].astype(np.float64)
    c, s = np.cos(theta), np.sin(theta)
    u, v = c * xx + s * yy, -s * xx + c * yy
    kernel = np.exp(-0.5 * ((u / sx) ** 2 + (v / sy) ** 2))
    return cv2.filter2D(img, -1, kernel / kernel.sum(), borderType=cv2.BORDER_REFLECT)


def _resize(img: np.ndarray, factor: float, rng: np.random.Generator) -> np.ndarray:
    h, w = img.shape[:2]
    size = (max(1, int(round(w * factor))), max(1, int(round(h * factor))))
    return cv2.resize(img, size, interpolation=int(rng.choice(_INTERPOLATIONS)))


def _noise(img: np.ndarray, rng: np.random.Generator, max_sigma: float) -> np.ndarray:
    if rng.random() < 0.5:  # Gaussian, in colour or grey
        sigma = rng.uniform(1, max_sigma)
        shape = img.shape if rng.random() < 0.6 else (*img.shape[:2], 1)
        return img + rng.normal(0, sigma, shape)
    scale = 10 ** rng.uniform(-1, 0.5)  # Poisson (shot) noise
    clipped = np.clip(img, 0, 255)
    return clipped + (rng.poisson(clipped * scale / 4) / (scale / 4) - clipped) * 0.5


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """``image`` (``uint8 [H, W, 3]`` RGB, or float rounded to it) saved as JPEG at ``quality``
    (1..100; OpenCV's libjpeg, 4:2:0 chroma) and read back, as ``uint8``."""
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB image [H, W, 3], got shape {list(image.shape)}")
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be in 1..100, got {quality}")
    bgr = np.clip(image, 0, 255).round().astype(np.uint8)[..., ::-1]
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError(f"OpenCV could not encode a {list(image.shape)} image as JPEG")
    return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])


def _jpeg(img: np.ndarray, rng: np.random.Generator, low: int) -> np.ndarray:
    return jpeg(img, int(rng.integers(low, 96))).astype(np.float64)


def degrade(
    hr: np.ndarray, scale: int, rng: np.random.Generator, second_order: bool = True
) -> np.ndarray:
    """A realistic low-resolution ``uint8 [H/scale, W/scale, 3]`` of ``hr`` (``uint8 [H, W, 3]``,
    H and W multiples of ``scale``)."""
    h, w = hr.shape[:2]
    if h % scale or w % scale:
        raise ValueError(f"image size {w}×{h} is not a multiple of the scale {scale}")
    img = hr.astype(np.float64)
    img = _resize(_blur(img, rng), rng.uniform(0.15, 1.5), rng)
    img = _jpeg(_noise(img, rng, 30), rng, 30)
    if second_order and rng.random() < 0.8:
        if rng.random() < 0.8:
            img = _blur(img, rng)
        img = _resize(img, rng.uniform(0.3, 1.2), rng)
        img = _noise(img, rng, 25)
    img = cv2.resize(img, (w // scale, h // scale), interpolation=int(rng.choice(_INTERPOLATIONS)))
    img = _jpeg(img, rng, 30)
    return np.clip(img, 0, 255).round().astype(np.uint8)
