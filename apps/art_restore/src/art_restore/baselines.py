"""Classical restorers the diffusion model is compared with: each is the usual first tool for one
kind of damage, applied as is to every kind (as a user without a learned model would)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

__all__ = ["BASELINES", "denoise", "inpaint_scratches", "line_mask", "unsharp"]


def denoise(image: np.ndarray, strength: float = 10.0) -> np.ndarray:
    """OpenCV's non-local means for colour images."""
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    out = cv2.fastNlMeansDenoisingColored(bgr, None, strength, strength, 7, 21)
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB)


def unsharp(image: np.ndarray, sigma: float = 2.0, amount: float = 1.0) -> np.ndarray:
    """Unsharp masking: add back ``amount`` × (image − blurred image)."""
    img = image.astype(np.float32)
    blurred = cv2.GaussianBlur(img, (0, 0), sigma)
    return np.clip(img + amount * (img - blurred), 0, 255).round().astype(np.uint8)


def line_mask(image: np.ndarray, threshold: float = 40.0) -> np.ndarray:
    """Thin bright or dark lines (scratches, cracks): morphological top-hat and black-hat of the
    grey image with a 7×7 element above ``threshold``, widened by one pixel."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    element = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    lines = np.maximum(
        cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, element),
        cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, element),
    )
    mask = (lines > threshold).astype(np.uint8) * 255
    return cv2.dilate(mask, np.ones((3, 3), np.uint8))


def inpaint_scratches(image: np.ndarray) -> np.ndarray:
    """Detected thin lines filled by OpenCV's Telea inpainting."""
    return cv2.inpaint(image, line_mask(image), 3, cv2.INPAINT_TELEA)


BASELINES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "nl-means": denoise,
    "unsharp": unsharp,
    "inpaint": inpaint_scratches,
}
