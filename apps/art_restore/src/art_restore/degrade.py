"""Damage of photographed artworks, each kind with a severity in (0, 1], composable and seeded.

The ten types of the published art-restoration set (blur, dull, fade, gaussian noise, motion blur,
noise, pixelate, radial blur, rain, water damage) plus scratches and cracks (craquelure). Every
kind maps ``uint8 [H, W, 3]`` to an image of the same shape and type (and, on request, the map of
the pixels it damaged, which the restorer learns to predict); the same image, type, severity and
seed give the same result.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from art_restore.options import FAMILIES, FAMILY

__all__ = [
    "DEGRADATIONS",
    "FAMILIES",
    "FAMILY",
    "apply",
    "compose",
    "dull",
    "motion_kernel",
    "random_recipe",
    "undull",
    "water_stain",
    "zoom_blur",
]


def _gaussian_blur(img: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
    sigma = 0.6 + 3.4 * severity * rng.uniform(0.8, 1.2)
    return cv2.GaussianBlur(img, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)


DULL_CONTRAST = 0.6  # a dulling of strength a keeps 1 − 0.6·a of the contrast


def dull(img: np.ndarray, a: float) -> np.ndarray:
    """``img`` (float ``[H, W, 3]``) dulled with strength ``a`` in [0, 1): each pixel's colour
    moved a share ``a`` towards its grey, then every value a share ``DULL_CONTRAST · a`` towards
    the image's mean (which stays where it was)."""
    grey = img.mean(-1, keepdims=True)
    desaturated = img * (1 - a) + grey * a
    return desaturated * (1 - DULL_CONTRAST * a) + desaturated.mean() * DULL_CONTRAST * a


def undull(img: np.ndarray, a: float) -> np.ndarray:
    """The inverse of :func:`dull` (float, unclipped)."""
    c = 1 - DULL_CONTRAST * a
    desaturated = (img - img.mean() * (1 - c)) / c
    grey = desaturated.mean(-1, keepdims=True)
    return (desaturated - grey * a) / (1 - a)


def _dull(img: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
    """Lower contrast and saturation: a flat, grey-looking photograph."""
    return dull(img, 0.25 + 0.5 * severity)


def _fade(img: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
    """A warm, pale veil, as faded pigments and yellowed varnish give."""
    a = 0.2 + 0.45 * severity
    veil = np.array([235, 225, 190]) * rng.uniform(0.95, 1.05, 3)
    return img * (1 - a) + veil * a


def _gaussian_noise(img: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
    return img + rng.normal(0, 4 + 36 * severity, img.shape)


def motion_kernel(length: int, angle: float) -> np.ndarray:
    """``float32 [length, length]``, summing to 1: a straight motion of ``length`` pixels at
    ``angle`` degrees (counter-clockwise from the x axis, as the image is shown)."""
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2] = 1
    rotation = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1)
    kernel = cv2.warpAffine(kernel, rotation, (length, length))
    return kernel / kernel.sum()


def _motion_blur(img: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
    kernel = motion_kernel(int(3 + 20 * severity), rng.uniform(0, 180))
    return cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REFLECT)


def _noise(img: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
    """Speckle (multiplicative) grain with salt-and-pepper dust."""
    out = img * (1 + rng.normal(0, 0.05 + 0.25 * severity, img.shape[:2])[..., None])
    dust = rng.random(img.shape[:2])
    p = 0.002 + 0.03 * severity
    out[dust < p / 2] = 0
    out[dust > 1 - p / 2] = 255
    return out


def _pixelate(img: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
    h, w = img.shape[:2]
    block = 2 + int(round(10 * severity))
    small = cv2.resize(img, (max(1, w // block), max(1, h // block)), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)


def zoom_blur(
    img: np.ndarray, cx: float, cy: float, zoom: float, copies: int = 12, adjoint: bool = False
) -> np.ndarray:
    """``img`` (``[H, W, C]``; float32 out) averaged with copies of itself scaled about ``(cx, cy)``
    (pixels) by factors spaced evenly from 1 to ``1 + zoom``: a zoom (radial) blur whose length
    grows with the distance from the centre. With ``adjoint``, the copies are scaled by the
    inverse factors: the blur's adjoint (up to interpolation, and a Jacobian within
    ``(1 + zoom)²`` of 1), which deblurring needs."""
    if copies < 2:
        raise ValueError(f"a zoom blur needs at least 2 copies, got {copies}")
    h, w = img.shape[:2]
    out = np.zeros(img.shape, np.float32)
    for k in range(copies):
        z = 1 + zoom * k / (copies - 1)
        z = 1 / z if adjoint else z
        m = np.float32([[z, 0, cx * (1 - z)], [0, z, cy * (1 - z)]])
        out += cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT).reshape(out.shape)
    return out / copies


def _radial_blur(img: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
    """Zoom blur about a point near the centre: copies scaled up to 1 + 8% · severity, averaged."""
    h, w = img.shape[:2]
    cx, cy = w * rng.uniform(0.35, 0.65), h * rng.uniform(0.35, 0.65)
    return zoom_blur(img, cx, cy, 0.08 * severity)


def _rain(img: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
    """Slanted bright streaks, as rain or runs on the glass in front of the work."""
    h, w = img.shape[:2]
    streaks = np.zeros((h, w), np.float32)
    angle = rng.uniform(-0.35, 0.35)
    count = int((200 + 1800 * severity) * h * w / 512**2)
    length = 8 + 20 * severity
    for _ in range(count):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        dx, dy = np.sin(angle) * length, np.cos(angle) * length
        cv2.line(streaks, (int(x), int(y)), (int(x + dx), int(y + dy)), 1.0, 1, cv2.LINE_AA)
    streaks = cv2.GaussianBlur(streaks, (0, 0), 0.7)[..., None]
    alpha = np.clip(streaks * (0.35 + 0.5 * severity), 0, 1)
    return img * (1 - alpha) + 235 * alpha, alpha[..., 0]


def _smooth_field(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    h, w = shape
    small = rng.normal(size=(max(2, int(h / scale)), max(2, int(w / scale)))).astype(np.float32)
    field = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    return (field - field.mean()) / (field.std() + 1e-6)


# a water stain: the paint pulled towards brown by up to STAIN_OPACITY (and softened), its edge
# darkened by up to TIDE_DARKENING
STAIN_BROWN = np.array([150, 115, 70], np.float32)
STAIN_OPACITY, TIDE_DARKENING = 0.45, 0.35


def water_stain(
    shape: tuple[int, int], severity: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``float32 [H, W]`` maps of a random water stain: its extent in [0, 1] (blotches of a smooth
    random field above a level that falls with ``severity``) and its tide line in [0, 1] (a band
    along the blotches' edge)."""
    h, w = shape
    field = _smooth_field(rng, (h, w), max(h, w) / rng.uniform(3, 6))
    level = 1.2 - 1.4 * severity
    stain = np.clip((field - level) * 3, 0, 1).astype(np.float32)
    band = np.exp(-(((field - level) / 0.06) ** 2)).astype(np.float32)
    return stain, band


def _water_damage(img: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
    """Stains: blotches where the colour went brown and soft, edged by darker tide lines."""
    stain, band = water_stain(img.shape[:2], severity, rng)
    soft = cv2.GaussianBlur(img, (0, 0), 1.5)
    stained = soft * (1 - STAIN_OPACITY) + STAIN_BROWN * STAIN_OPACITY
    out = img * (1 - stain[..., None]) + stained * stain[..., None]
    tide = TIDE_DARKENING * band
    return out * (1 - tide[..., None]), np.maximum(stain, tide)


def _curve(rng: np.random.Generator, h: int, w: int, steps: int, wiggle: float) -> np.ndarray:
    start = rng.uniform([0, 0], [w, h])
    heading = rng.uniform(0, 2 * np.pi)
    points = [start]
    step = max(h, w) / steps * rng.uniform(0.5, 1.2)
    for _ in range(steps):
        heading += rng.normal(0, wiggle)
        points.append(points[-1] + step * np.array([np.cos(heading), np.sin(heading)]))
    return np.array(points, np.int32)


def _scratches(img: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
    """Long, nearly straight bright or dark lines, 1-2 px wide."""
    h, w = img.shape[:2]
    out = img.copy()
    mask = np.zeros((h, w), np.float32)
    for _ in range(int(2 + 14 * severity)):
        pts = _curve(rng, h, w, 12, 0.08)
        color = (245.0,) * 3 if rng.random() < 0.7 else (25.0,) * 3
        thickness = int(rng.integers(1, 3))
        cv2.polylines(out, [pts], False, color, thickness, cv2.LINE_AA)
        cv2.polylines(mask, [pts], False, 1.0, thickness, cv2.LINE_AA)
    return out, mask


def _cracks(img: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
    """Craquelure: a network of thin dark wandering lines that branch."""
    h, w = img.shape[:2]
    mask = np.zeros((h, w), np.float32)
    for _ in range(int(3 + 25 * severity)):
        pts = _curve(rng, h, w, 24, 0.5)
        cv2.polylines(mask, [pts], False, 1.0, 1, cv2.LINE_AA)
        for _ in range(int(rng.integers(0, 3))):  # branches
            base = pts[int(rng.integers(len(pts)))]
            branch = _curve(rng, h, w, 8, 0.6)
            cv2.polylines(mask, [branch - branch[0] + base], False, 1.0, 1, cv2.LINE_AA)
    dark = (0.55 + 0.35 * severity) * mask[..., None]
    return img * (1 - dark) + 30 * dark, mask


DEGRADATIONS: dict[str, Callable[[np.ndarray, float, np.random.Generator], np.ndarray]] = {
    "blur": _gaussian_blur,
    "dull": _dull,
    "fade": _fade,
    "gaussian_noise": _gaussian_noise,
    "motion_blur": _motion_blur,
    "noise": _noise,
    "pixelate": _pixelate,
    "radial_blur": _radial_blur,
    "rain": _rain,
    "water_damage": _water_damage,
    "scratches": _scratches,
    "cracks": _cracks,
}

MASK_LEVEL = 0.1  # a pixel is damaged where a kind's own mask (its opacity) exceeds this


def _check(image: np.ndarray, kind: str, severity: float) -> None:
    if kind not in DEGRADATIONS:
        raise ValueError(f"unknown degradation {kind!r}; choose from {', '.join(DEGRADATIONS)}")
    if not 0 < severity <= 1:
        raise ValueError(f"severity must be in (0, 1], got {severity}")
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected uint8 [H, W, 3], got {image.dtype} {list(image.shape)}")


def apply(
    image: np.ndarray,
    kind: str,
    severity: float,
    seed: int | np.random.Generator = 0,
    with_mask: bool = False,
):
    """One degradation of ``image`` (``uint8 [H, W, 3]``); ``severity`` in (0, 1]. With
    ``with_mask``, also the ``bool [H, W]`` map of the pixels it damaged (every pixel for the
    kinds that change the whole image: tone, noise, blur)."""
    _check(image, kind, severity)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    out = DEGRADATIONS[kind](image.astype(np.float32), severity, rng)
    out, mask = out if isinstance(out, tuple) else (out, None)
    out = np.clip(out, 0, 255).round().astype(np.uint8)
    if not with_mask:
        return out
    mask = np.ones(image.shape[:2], bool) if mask is None else mask > MASK_LEVEL
    return out, mask


def compose(image: np.ndarray, recipe: list[tuple[str, float]], seed=0, with_masks: bool = False):
    """Apply ``[(kind, severity), ...]`` in order, with one seeded stream for all. With
    ``with_masks``, also ``bool [len(FAMILIES), H, W]``: which pixels each family damaged."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    masks = np.zeros((len(FAMILIES), *image.shape[:2]), bool)
    for kind, severity in recipe:
        image, mask = apply(image, kind, severity, rng, with_mask=True)
        masks[FAMILIES.index(FAMILY[kind])] |= mask
    return (image, masks) if with_masks else image


def random_recipe(
    rng: np.random.Generator, max_kinds: int = 3, kinds: tuple[str, ...] | None = None
) -> list[tuple[str, float]]:
    """1 to ``max_kinds`` distinct kinds with severities in [0.2, 1], in a random order: the
    mixed damage the restorer trains on."""
    kinds = tuple(kinds or DEGRADATIONS)
    n = int(rng.integers(1, min(max_kinds, len(kinds)) + 1))
    chosen = rng.choice(len(kinds), n, replace=False)
    return [(kinds[i], float(rng.uniform(0.2, 1.0))) for i in chosen]
