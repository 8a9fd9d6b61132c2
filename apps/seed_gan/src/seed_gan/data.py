"""Seed image folders (one subfolder per class), a reproducible split, and a torch dataset that
skips unreadable files and says which."""

from __future__ import annotations

import copy
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from app_toolkit.media import IMAGE_EXTENSIONS, MediaError, read_image

__all__ = [
    "IMAGE_EXTENSIONS",
    "VIEW_SUFFIXES",
    "SeedImages",
    "find_images",
    "list_images",
    "load_image",
    "load_images",
    "seed_id",
    "split_of",
]

log = logging.getLogger(__name__)

# Two photographs of one kernel (both sides) are named <seed>_top.<ext> and <seed>_bottom.<ext>.
VIEW_SUFFIXES = ("_top", "_bottom")


def seed_id(path: str | os.PathLike) -> str:
    """The kernel a photograph shows: its file name without extension and view suffix."""
    stem = Path(path).stem
    for suffix in VIEW_SUFFIXES:
        if stem.lower().endswith(suffix) and len(stem) > len(suffix):
            return stem[: -len(suffix)]
    return stem


def split_of(path: str | os.PathLike, val: float = 0.1, test: float = 0.2) -> str:
    """``train``, ``val`` or ``test`` from a hash of the kernel's id (:func:`seed_id`): the same
    file always lands in the same split, also when files are added to the folder later, and both
    views of a kernel land in the same split."""
    if not (0 <= val and 0 <= test and val + test < 1):
        raise ValueError(f"val and test fractions must be >= 0 and sum below 1, got {val}, {test}")
    digest = hashlib.sha1(seed_id(path).encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    return "test" if u < test else "val" if u < test + val else "train"


def find_images(root: str | os.PathLike) -> list[Path]:
    """Every image file below ``root`` (recursively, hidden files left out), sorted."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root}: no such folder")
    return [
        p
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and p.suffix.lower() in IMAGE_EXTENSIONS
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    ]


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
            files += [(p, index) for p in find_images(folder)]
    if not files:
        raise ValueError(f"{root}: no images in the class subfolders {classes}")
    return files, list(classes)


def load_image(path: str | os.PathLike, size: int) -> np.ndarray:
    """RGB ``uint8 [size, size, 3]``; a ``ValueError`` names an unreadable file."""
    try:
        rgb = Image.fromarray(read_image(path)[0])
    except MediaError as err:
        raise ValueError(f"{path}: {err}") from None
    if rgb.size != (size, size):
        rgb = rgb.resize((size, size), Image.BILINEAR)
    return np.asarray(rgb)


def load_images(
    paths: list, size: int, progress: bool = False
) -> tuple[torch.Tensor, list, list[str]]:
    """``(images uint8 [N, 3, size, size], readable paths, messages for unreadable files)``."""
    from tqdm.auto import tqdm

    images, readable, skipped = [], [], []
    for path in tqdm(paths, desc="reading", unit="image", disable=not progress):
        try:
            images.append(load_image(path, size))
        except ValueError as err:
            skipped.append(str(err))
            continue
        readable.append(path)
    for message in skipped:
        log.warning("skipped %s", message)
    stacked = (
        torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
        if images
        else torch.zeros(0, 3, size, size, dtype=torch.uint8)
    )
    return stacked, readable, skipped


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
        label_of = dict(files)
        self.images, self.paths, self.skipped = load_images([p for p, _ in files], self.size)
        if not self.paths:
            raise ValueError(f"{self.root}: no readable image in split {self.split!r}")
        self.labels = torch.tensor([label_of[p] for p in self.paths])

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.images[i].float() / 127.5 - 1, self.labels[i]

    def class_counts(self) -> dict[str, int]:
        counts = torch.bincount(self.labels, minlength=len(self.classes)).tolist()
        return dict(zip(self.classes, counts))

    def rare_classes(self) -> list[str]:
        """Classes with fewer than half the images of the largest one."""
        counts = self.class_counts()
        return [c for c, n in counts.items() if n < max(counts.values()) / 2]

    def keep_rare(self, count: int, seed: int = 0) -> SeedImages:
        """A copy with at most ``count`` images of each of :meth:`rare_classes` (drawn with
        ``seed``; both views of a kernel count as two images), every image of the others: a lab
        that has photographed only a few dozen kernels of a rare defect."""
        if count < 1:
            raise ValueError(f"the rare-class count must be >= 1, got {count}")
        rng, rare = np.random.default_rng(seed), self.rare_classes()
        keep = []
        for index, name in enumerate(self.classes):
            members = np.flatnonzero(self.labels.numpy() == index)
            if name in rare:
                members = np.sort(rng.permutation(members)[:count])
            keep.extend(members.tolist())
        keep = sorted(keep)
        subset = copy.copy(self)
        subset.images, subset.labels = self.images[keep], self.labels[keep]
        subset.paths = [self.paths[i] for i in keep]
        return subset
