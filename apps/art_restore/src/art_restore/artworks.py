"""Artwork-like images that need no download, for training, tests, benchmarks and the demo.

No collection of painting photographs ships offline, so two sources stand in: the sample photographs
of scikit-image and scikit-learn rendered as paintings (OpenCV's edge-preserving stylisation: flat
colour areas with soft edges, like gouache or watercolour), and procedural canvases of brush
strokes over a graded ground. Real artworks differ (pigment texture, varnish, canvas weave); these
images test the software and compare methods.
"""

from __future__ import annotations

import cv2
import numpy as np

from affine_sr.data import HELD_OUT  # the photographs superres never trained on

__all__ = ["HELD_OUT", "artworks", "brush_painting", "stylise"]


def stylise(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A photograph (``uint8 [H, W, 3]`` RGB) painted over: edge-preserving stylisation."""
    bgr = cv2.cvtColor(photo, cv2.COLOR_RGB2BGR)
    painted = cv2.stylization(bgr, sigma_s=float(rng.uniform(20, 60)), sigma_r=0.45)
    return cv2.cvtColor(painted, cv2.COLOR_BGR2RGB)


def brush_painting(rng: np.random.Generator, size: int = 256) -> np.ndarray:
    """Brush strokes of a small palette over a graded ground, with a faint canvas weave."""
    palette = rng.uniform(20, 240, (int(rng.integers(3, 7)), 3)).astype(np.float32)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    top, bottom = palette[rng.choice(len(palette), 2, replace=False)]
    canvas = top * (1 - yy[..., None]) + bottom * yy[..., None]
    canvas = np.ascontiguousarray(canvas)
    for _ in range(int(rng.integers(80, 220))):
        color = palette[int(rng.integers(len(palette)))] * rng.uniform(0.85, 1.15)
        x, y = rng.uniform(0, size, 2)
        angle, length = rng.uniform(0, np.pi), rng.uniform(6, size / 4)
        width = int(rng.integers(2, 9))
        end = (int(x + np.cos(angle) * length), int(y + np.sin(angle) * length))
        stroke = np.zeros((size, size), np.float32)
        cv2.line(stroke, (int(x), int(y)), end, 1.0, width, cv2.LINE_AA)
        stroke = cv2.GaussianBlur(stroke, (0, 0), 0.8)[..., None] * rng.uniform(0.6, 1.0)
        canvas = canvas * (1 - stroke) + color * stroke
    weave = (np.sin(xx * size * 1.6) * np.sin(yy * size * 1.6))[..., None] * 6
    return np.clip(canvas + weave, 0, 255).round().astype(np.uint8)


def artworks(held_out: bool = False, paintings: int = 0, seed: int = 0) -> dict[str, np.ndarray]:
    """Stylised sample photographs by name (the held-out ones only if ``held_out``, else the
    others), plus ``paintings`` procedural brush paintings named ``painting_<k>``."""
    from affine_sr.data import sample_images

    rng = np.random.default_rng(seed)
    images = {
        name: stylise(photo, rng)
        for name, photo in sample_images().items()
        if (name in HELD_OUT) == held_out
    }
    for k in range(paintings):
        images[f"painting_{k}"] = brush_painting(rng)
    return images
