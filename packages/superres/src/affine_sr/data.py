"""Training and evaluation images that need no download, and paired (HR, LR) crops from them.

Offline sources: the colour and grey sample images shipped inside scikit-image and scikit-learn,
plus procedural textures (fractal noise, stripes, discs, text-like strokes) for the high
frequencies that the few photographs lack. ``HELD_OUT`` names the photographs kept out of
training for the benchmarks; :func:`heldout_images` adds photographs that ship in other registry
packages (:data:`REGISTRY_PHOTOS`), never used for training. Users train on their own folders instead (``affine-sr train DIR``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from affine_sr.degradations import degrade

__all__ = [
    "HELD_OUT",
    "REGISTRY_PHOTOS",
    "PairedCrops",
    "heldout_images",
    "procedural_texture",
    "sample_images",
    "to_tensor",
]

# scikit-image images that ship with the package (others need a download)
_SKIMAGE = (
    "astronaut",
    "brick",
    "camera",
    "chelsea",
    "clock",
    "coffee",
    "coins",
    "colorwheel",
    "grass",
    "gravel",
    "hubble_deep_field",
    "immunohistochemistry",
    "moon",
    "page",
    "retina",
    "rocket",
    "text",
)
HELD_OUT = ("coffee", "chelsea", "flower", "camera")
# held-out photographs inside other packages: name -> (package, path in it, licence)
REGISTRY_PHOTOS = {
    "grace_hopper": (
        "matplotlib",
        "mpl-data/sample_data/grace_hopper.jpg",
        "public domain (U.S. Navy photograph), shipped with matplotlib",
    ),
    "bus": ("ultralytics", "assets/bus.jpg", "AGPL-3.0, as the ultralytics package"),
    "zidane": ("ultralytics", "assets/zidane.jpg", "AGPL-3.0, as the ultralytics package"),
}


def _rgb(image: np.ndarray) -> np.ndarray:
    if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, -1)
    return np.ascontiguousarray(image[..., :3])


def sample_images() -> dict[str, np.ndarray]:
    """Every offline sample image as ``uint8 [H, W, 3]`` RGB, by name (grey ones replicated)."""
    import skimage.data
    from sklearn.datasets import load_sample_image

    images = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in _SKIMAGE:
            images[name] = _rgb(getattr(skimage.data, name)())
    for name in ("china", "flower"):
        images[name] = _rgb(load_sample_image(f"{name}.jpg"))
    return images


def heldout_images() -> dict[str, np.ndarray]:
    """The benchmark's photographs, none used for training, as ``uint8 [H, W, 3]`` RGB: the
    :data:`HELD_OUT` sample images and each of :data:`REGISTRY_PHOTOS` whose package is
    installed (matplotlib always is; ultralytics is in the monorepo's environment)."""
    import importlib.util

    from PIL import Image

    samples = sample_images()
    images = {name: samples[name] for name in HELD_OUT}
    for name, (package, path, _) in REGISTRY_PHOTOS.items():
        spec = importlib.util.find_spec(package)  # finds the folder without importing it
        if spec is None or not spec.submodule_search_locations:
            continue
        file = Path(list(spec.submodule_search_locations)[0]) / path
        if file.is_file():
            images[name] = _rgb(np.asarray(Image.open(file).convert("RGB")))
    return images


def _fractal(rng: np.random.Generator, size: int) -> np.ndarray:
    """1/f^β noise, β random: from smooth clouds to fine grain."""
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    f = np.sqrt(fx**2 + fy**2)
    f[0, 0] = 1
    spectrum = (rng.normal(size=f.shape) + 1j * rng.normal(size=f.shape)) / f ** rng.uniform(
        0.8, 1.6
    )
    field = np.fft.irfft2(spectrum, s=(size, size))
    return (field - field.min()) / (np.ptp(field) + 1e-12)


def procedural_texture(rng: np.random.Generator, size: int = 256) -> np.ndarray:
    """One random ``uint8 [size, size, 3]`` texture: coloured fractal noise with stripes, discs,
    polygons and strokes on top (sharp edges and thin lines at every orientation)."""
    palette = rng.uniform(0, 255, (3, 3))
    base = _fractal(rng, size)
    img = palette[0] + (palette[1] - palette[0]) * base[..., None]
    kind = rng.integers(0, 4)
    if kind == 0:  # stripes of random period and direction
        yy, xx = np.mgrid[0:size, 0:size]
        theta, period = rng.uniform(0, np.pi), rng.uniform(3, 24)
        wave = np.sin((xx * np.cos(theta) + yy * np.sin(theta)) * 2 * np.pi / period)
        img = np.where((wave > 0)[..., None], img, palette[2])
    img = np.ascontiguousarray(img.astype(np.float32))
    for _ in range(int(rng.integers(3, 25))):
        color = tuple(float(c) for c in rng.uniform(0, 255, 3))
        x, y = (int(v) for v in rng.integers(0, size, 2))
        shape = rng.integers(0, 3)
        if shape == 0:
            cv2.circle(img, (x, y), int(rng.integers(2, size // 6)), color, -1, cv2.LINE_AA)
        elif shape == 1:
            pts = rng.integers(0, size, (int(rng.integers(3, 6)), 2)).astype(np.int32)
            cv2.fillPoly(img, [pts], color, cv2.LINE_AA)
        else:
            end = tuple(int(v) for v in rng.integers(0, size, 2))
            cv2.line(img, (x, y), end, color, int(rng.integers(1, 4)), cv2.LINE_AA)
    grain = _fractal(rng, size)[..., None] - 0.5
    img = img + grain * rng.uniform(0, 60)
    return np.clip(img, 0, 255).round().astype(np.uint8)


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """``uint8 [H, W, 3]`` → ``float [3, H, W]`` in [-1, 1]."""
    return (
        torch.tensor(image).permute(2, 0, 1).float() / 127.5 - 1
    )  # a copy: inputs may be read-only


class PairedCrops(Dataset):
    """Random ``crop``×``crop`` HR crops (flipped and rotated) with their LR inputs: plain bicubic
    with probability ``clean``, else the Real-ESRGAN degradation, or ``degrade(hr, rng)`` when
    given (any damage; it returns the input at 1/``scale`` size). ``length`` draws per epoch;
    item ``i`` of epoch ``e`` is the same for a given ``seed``, so runs repeat."""

    def __init__(
        self,
        images: list[np.ndarray],
        crop: int = 128,
        scale: int = 4,
        clean: float = 0.5,
        length: int = 1000,
        seed: int = 0,
        degrade: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
    ):
        if crop % scale:
            raise ValueError(f"crop ({crop}) must be a multiple of the scale ({scale})")
        self.images = [im for im in images if min(im.shape[:2]) >= crop]
        if not self.images:
            raise ValueError(f"no training image is at least {crop}×{crop} pixels")
        self.crop, self.scale, self.clean, self.length, self.seed = (
            crop,
            scale,
            clean,
            length,
            seed,
        )
        self.degrade = degrade
        self.epoch = 0

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        from affine_sr.degradations import bicubic_downscale

        if not 0 <= i < self.length:
            raise IndexError(i)
        rng = np.random.default_rng((self.seed, self.epoch, i))
        image = self.images[int(rng.integers(len(self.images)))]
        h, w = image.shape[:2]
        y, x = int(rng.integers(0, h - self.crop + 1)), int(rng.integers(0, w - self.crop + 1))
        hr = np.rot90(image[y : y + self.crop, x : x + self.crop], int(rng.integers(4)))
        if rng.random() < 0.5:
            hr = hr[:, ::-1]
        hr = np.ascontiguousarray(hr)
        if self.degrade is not None:
            lr = self.degrade(hr, rng)
        elif rng.random() < self.clean:
            lr = bicubic_downscale(hr, self.scale)
        else:
            lr = degrade(hr, self.scale, rng)
        return to_tensor(hr), to_tensor(lr)
