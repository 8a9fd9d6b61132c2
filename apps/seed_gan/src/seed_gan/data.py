"""Seed image folders (one subfolder per class), a reproducible split, and a torch dataset that
skips unreadable files and says which."""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

__all__ = ["IMAGE_EXTENSIONS", "SeedImages", "list_images", "load_image", "split_of"]

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


def split_of(path: str | os.PathLike, val: float = 0.1, test: float = 0.2) -> str:
    """``train``, ``val`` or ``test`` from a hash of the file's name: the same file always lands in
    the same split, also when files are added to the folder later."""
    if not (0 <= val and 0 <= test and val + test < 1):
        raise ValueError(f"val and test fractions must be >= 0 and sum below 1, got {val}, {test}")
    digest = hashlib.sha1(Path(path).name.encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    return "test" if u < test else "val" if u < test + val else "train"


def list_images(root: str | os.PathLike, classes: list[str] | None = None) -> tuple[list, list]:
    """``(files, classes)``: ``(path, class index)`` for every image below ``root/<class>/``,
    sorted; classes are the subfolder names unless given."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root}: no such folder")
    if classes is None:
        classes = sorted(
            d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")
        )
    if len(classes) < 2:
        raise ValueError(f"{root}: need one subfolder per class, at least 2, found {classes}")
    files = []
    for index, name in enumerate(classes):
        folder = root / name
        if folder.is_dir():
            files += [
                (p, index)
                for p in sorted(folder.rglob("*"))
                if p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")
            ]
    if not files:
        raise ValueError(f"{root}: no images in the class subfolders {classes}")
    return files, list(classes)


def load_image(path: str | os.PathLike, size: int) -> np.ndarray:
    """RGB ``uint8 [size, size, 3]``; a ``ValueError`` names an unreadable file."""
    try:
        with Image.open(path) as img:
            img.load()
            rgb = img.convert("RGB")
    # ImportError: ultralytics, when imported, patches Image.open to load an optional HEIF
    # plugin on unidentified files and raises ImportError when that plugin is absent.
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, ImportError) as err:
        if isinstance(err, ImportError):
            err = "unidentified format"
        raise ValueError(f"{path}: not a readable image ({err})") from None
    if rgb.size != (size, size):
        rgb = rgb.resize((size, size), Image.BILINEAR)
    return np.asarray(rgb)


@dataclass
class SeedImages(torch.utils.data.Dataset):
    """Images of one split as tensors in [-1, 1] ``[3, size, size]`` with their class index; all
    images are read once (seed images are small) and unreadable ones are listed in ``skipped``."""

    root: str | os.PathLike
    split: str | None = None  # None: every file
    size: int = 64
    classes: list[str] | None = None

    def __post_init__(self):
        files, self.classes = list_images(self.root, self.classes)
        if self.split is not None:
            files = [(p, y) for p, y in files if split_of(p) == self.split]
        images, labels, self.skipped, self.paths = [], [], [], []
        for path, label in files:
            try:
                images.append(load_image(path, self.size))
            except ValueError as err:
                self.skipped.append(str(err))
                continue
            labels.append(label)
            self.paths.append(path)
        for message in self.skipped:
            log.warning("skipped %s", message)
        if not images:
            raise ValueError(f"{self.root}: no readable image in split {self.split!r}")
        self.images = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
        self.labels = torch.tensor(labels)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.images[i].float() / 127.5 - 1, self.labels[i]

    def class_counts(self) -> dict[str, int]:
        counts = torch.bincount(self.labels, minlength=len(self.classes)).tolist()
        return dict(zip(self.classes, counts))
