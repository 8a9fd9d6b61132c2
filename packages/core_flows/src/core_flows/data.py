"""Image datasets for flows: bundled ones, user folders and arrays, and standard sets from local files.

Every loader returns integer images ``[N, C, H, W]`` (``uint8``) and the number of quantisation
levels, so bits/dim is right for any bit depth. Nothing is downloaded: MNIST, CIFAR-10 and CelebA are
read from files the user already has, and a missing file is reported with the path that was expected.

Specs accepted by :func:`load_images`:

=================== ===========================================================================
``digits``          scikit-learn's bundled 8×8 handwritten digits (1,797 images, 17 grey levels)
``lfw``             scikit-image's bundled 25×25 face crops (200 images), centre-cropped to 24×24
``folder:PATH``     every image under PATH (recursive), resized to ``image_size``
``npz:PATH``        an ``.npz``/``.npy`` array ``[N, H, W]``, ``[N, H, W, C]`` or ``[N, C, H, W]``
``mnist[:ROOT]``    ``ROOT/MNIST/raw/{train,t10k}-images-idx3-ubyte[.gz]`` (torchvision's layout); without
                    the ``t10k`` file a seeded 10,000-image validation split of the training
                    images stands in for the test set
``cifar10[:ROOT]``  ``ROOT/cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin`` (binary version)
``celeba[:ROOT]``   ``ROOT/celeba/img_align_celeba/*.jpg``, centre crop 148, resized to 64
=================== ===========================================================================
"""

from __future__ import annotations

import gzip
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

__all__ = ["IMAGE_SUFFIXES", "ImageData", "dequantize", "load_images", "quantize_levels"]

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


@dataclass
class ImageData:
    """Integer images split into train and test, with their number of levels."""

    name: str
    train: Tensor  # uint8 [N, C, H, W]
    test: Tensor  # uint8 [M, C, H, W]
    num_levels: int
    # what ``test`` is: the dataset's own test set, or a split held out of its training images
    test_source: str = "test set"

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.train.shape[1:])


def dequantize(x: Tensor, num_levels: int, generator: torch.Generator | None = None) -> Tensor:
    """Uniform dequantisation: integers in ``[0, num_levels)`` → ``(x + u) / num_levels`` in ``[0, 1)``."""
    u = torch.rand(x.shape, generator=generator, device="cpu").to(x.device)
    return (x.float() + u) / num_levels


def quantize_levels(x: Tensor, num_levels: int, n_bits: int) -> Tensor:
    """Requantise integers with ``num_levels`` levels to ``2**n_bits`` levels (Glow's ``n_bits_x``)."""
    target = 2**n_bits
    if target > num_levels:
        raise ValueError(f"n_bits={n_bits} asks for {target} levels but the data has {num_levels}")
    return torch.div(x.long() * target, num_levels, rounding_mode="floor").to(torch.uint8)


def _split(x: Tensor, test_fraction: float, seed: int) -> tuple[Tensor, Tensor]:
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    n_test = max(1, round(len(x) * test_fraction))
    return x[perm[n_test:]], x[perm[:n_test]]


def _to_nchw(a: np.ndarray, source: str) -> Tensor:
    if a.ndim == 3:
        a = a[:, None]
    elif a.ndim == 4 and a.shape[-1] in (1, 3, 4) and a.shape[1] not in (1, 3, 4):
        a = a.transpose(0, 3, 1, 2)
    if a.ndim != 4:
        raise ValueError(f"{source}: expected images [N, H, W(, C)] or [N, C, H, W], got {a.shape}")
    return torch.from_numpy(np.ascontiguousarray(a))


def _digits() -> tuple[Tensor, int]:
    from sklearn.datasets import load_digits

    return torch.from_numpy(load_digits().images.astype(np.uint8))[:, None], 17


def _lfw() -> tuple[Tensor, int]:
    from skimage.data import lfw_subset

    faces = np.rint(lfw_subset()[:, :24, :24] * 255).astype(np.uint8)
    return torch.from_numpy(faces)[:, None], 256


def _open_image(path: Path, size: int, channels: int, crop: int | None = None) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            if im.mode.startswith("I;16"):  # 16-bit: PIL's convert would clip at 255
                im = Image.fromarray((np.asarray(im, np.float64) / 257).round().astype(np.uint8))
            elif im.mode in ("I", "F"):
                raise OSError(f"{im.mode} images (32-bit) have no known range; convert to 8-bit")
            im = im.convert("L" if channels == 1 else "RGB")
            if crop:
                w, h = im.size
                left, top = (w - crop) // 2, (h - crop) // 2
                im = im.crop((left, top, left + crop, top + crop))
            else:  # centre square, then resize
                w, h = im.size
                s = min(w, h)
                im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
            im = im.resize((size, size), Image.Resampling.BICUBIC)
            return np.asarray(im, dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as err:
        raise OSError(f"{path}: {err}") from None


def _folder(root: Path, size: int, channels: int, crop: int | None = None) -> tuple[Tensor, int]:
    if not root.is_dir():
        raise ValueError(f"image folder {root} does not exist")
    paths = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise ValueError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) found under {root}")
    images, bad = [], []
    for p in paths:
        try:
            images.append(_open_image(p, size, channels, crop))
        except OSError as err:
            bad.append(str(err))
    if not images:
        raise ValueError(f"none of the {len(paths)} files under {root} could be read: {bad[0]}")
    if bad:
        logging.getLogger(__name__).warning(
            "skipped %d unreadable images, e.g. %s", len(bad), bad[0]
        )
    return _to_nchw(np.stack(images), str(root)), 256


def _array(path: Path) -> tuple[Tensor, int]:
    if not path.is_file():
        raise ValueError(f"array file {path} does not exist")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise ValueError(f"{path} is not a readable .npy/.npz file ({err})") from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        key = "x" if "x" in loaded.files else loaded.files[0]
        a = loaded[key]
    else:
        a = loaded
    if a.dtype != np.uint8:
        if not np.issubdtype(a.dtype, np.integer) or a.min() < 0 or a.max() > 255:
            raise ValueError(f"{path}: expected integer pixel values in 0..255, got {a.dtype}")
        a = a.astype(np.uint8)
    return _to_nchw(a, str(path)), 256


MNIST_VALIDATION = 10_000  # held out of the training images when the test files are absent


def _idx_images(path: Path) -> np.ndarray | None:
    """An IDX image file (``path`` or ``path.gz``) as ``[N, H, W]`` uint8; None when absent."""
    candidate = next((c for c in (path, path.with_name(path.name + ".gz")) if c.is_file()), None)
    if candidate is None:
        return None
    try:
        with (gzip.open if candidate.suffix == ".gz" else open)(candidate, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as err:  # a truncated or corrupt .gz
        raise ValueError(f"{candidate} could not be read ({err})") from None
    if len(data) < 16:
        raise ValueError(f"{candidate} is not an IDX image file (only {len(data)} bytes)")
    magic, n, h, w = (int(v) for v in np.frombuffer(data[:16], dtype=">i4"))
    if magic != 2051:
        raise ValueError(f"{candidate} is not an IDX image file (magic {magic}, expected 2051)")
    if len(data) - 16 != n * h * w:
        raise ValueError(
            f"{candidate} holds {len(data) - 16} pixel bytes; its header says {n} images of "
            f"{h}×{w} ({n * h * w}): truncated or not an MNIST file"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(n, h, w)


def _mnist(root: Path, seed: int) -> tuple[Tensor, Tensor, str]:
    raw = root / "MNIST" / "raw"
    train = _idx_images(raw / "train-images-idx3-ubyte")
    if train is None:
        raise ValueError(
            f"MNIST file {raw / 'train-images-idx3-ubyte'}[.gz] not found; put the MNIST files "
            "there (nothing is downloaded)"
        )
    train_images = torch.from_numpy(train.copy())[:, None]
    test = _idx_images(raw / "t10k-images-idx3-ubyte")
    if test is not None:
        return train_images, torch.from_numpy(test.copy())[:, None], "test set"
    # No test files: a fixed validation split, so that every choice is made without them.
    n_val = min(MNIST_VALIDATION, len(train_images) // 6)
    fit, val = _split(train_images, n_val / len(train_images), seed)
    return fit, val, f"validation split ({len(val)} training images, seed {seed}; no t10k files)"


def _cifar10(root: Path) -> tuple[Tensor, Tensor, int]:
    folder = root / "cifar-10-batches-bin"

    def read(name: str) -> Tensor:
        path = folder / name
        if not path.is_file():
            raise ValueError(
                f"CIFAR-10 file {path} not found; unpack the binary version "
                f"(cifar-10-binary.tar.gz) under {root} (nothing is downloaded)"
            )
        records = np.fromfile(path, dtype=np.uint8).reshape(-1, 3073)
        return torch.from_numpy(records[:, 1:].reshape(-1, 3, 32, 32).copy())

    train = torch.cat([read(f"data_batch_{i}.bin") for i in range(1, 6)])
    return train, read("test_batch.bin"), 256


def load_images(
    spec: str,
    image_size: int | None = None,
    channels: int | None = None,
    n_bits: int | None = None,
    test_fraction: float = 0.1,
    seed: int = 0,
) -> ImageData:
    """Load a dataset by ``spec`` (see the module docstring) and split it into train and test.

    Args:
        spec: dataset name, optionally with ``:PATH``.
        image_size: side length for ``folder:`` and ``celeba`` (default 32 and 64).
        channels: 1 (grey) or 3 (RGB) for ``folder:`` (default 3).
        n_bits: requantise to ``2**n_bits`` levels (e.g. 5 as in Glow's CelebA runs).
        test_fraction: share held out for test where the data has no official split.
        seed: seed of that split.
    """
    name, _, arg = spec.partition(":")
    name = name.lower()
    official_split = None
    test_source = "test set" if name in ("mnist", "cifar10") else (
        f"held-out {test_fraction:.0%} (seed {seed})"
    )
    if name == "digits":
        x, levels = _digits()
    elif name == "lfw":
        x, levels = _lfw()
    elif name == "folder":
        if not arg:
            raise ValueError("folder needs a path: folder:PATH")
        x, levels = _folder(Path(arg), image_size or 32, channels or 3)
    elif name == "npz":
        if not arg:
            raise ValueError("npz needs a path: npz:PATH")
        x, levels = _array(Path(arg))
    elif name == "mnist":
        train, test, test_source = _mnist(Path(arg or "data"), seed)
        official_split, levels = (train, test), 256
    elif name == "cifar10":
        train, test, levels = _cifar10(Path(arg or "data"))
        official_split = (train, test)
    elif name == "celeba":
        folder = Path(arg or "data") / "celeba" / "img_align_celeba"
        if not folder.is_dir():
            raise ValueError(f"CelebA folder {folder} not found; put img_align_celeba there")
        x, levels = _folder(folder, image_size or 64, 3, crop=148)
    else:
        raise ValueError(
            f"unknown dataset {spec!r}: use digits, lfw, folder:PATH, npz:PATH, mnist[:ROOT], "
            "cifar10[:ROOT] or celeba[:ROOT]"
        )
    train, test = official_split or _split(x, test_fraction, seed)
    if n_bits is not None:
        train, test = quantize_levels(train, levels, n_bits), quantize_levels(test, levels, n_bits)
        levels = 2**n_bits
    if len(train) == 0:
        raise ValueError(f"dataset {spec!r} has no training images")
    return ImageData(
        name=spec, train=train, test=test, num_levels=levels, test_source=test_source
    )
