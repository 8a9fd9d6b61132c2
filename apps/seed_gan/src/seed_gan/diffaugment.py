"""Differentiable augmentation for GANs trained on few images (DiffAugment).

The discriminator sees every image, real or generated, through the same random augmentation,
in its own step and in the generator's; the augmentations are differentiable, so the generator
learns through them, and since both sides are augmented alike it still learns the un-augmented
images. With a few dozen images per class this keeps the discriminator from memorising them.

Reference: Zhao, Liu, Lin, Zhu and Han, "Differentiable Augmentation for Data-Efficient GAN
Training", NeurIPS 2020, arXiv:2006.10738.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["POLICIES", "diff_augment", "parse_policy"]


def _translation(x: Tensor, ratio: float = 0.125) -> Tensor:
    """Shift each image by up to ``ratio`` of its size (whole pixels), zeros shifted in."""
    n, _, h, w = x.shape
    shift = torch.stack(
        [
            torch.randint(-int(w * ratio), int(w * ratio) + 1, (n,), device=x.device) * 2 / w,
            torch.randint(-int(h * ratio), int(h * ratio) + 1, (n,), device=x.device) * 2 / h,
        ],
        1,
    ).to(x.dtype)
    theta = torch.zeros(n, 2, 3, dtype=x.dtype, device=x.device)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    theta[:, :, 2] = -shift
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)


def _cutout(x: Tensor, ratio: float = 0.5) -> Tensor:
    """Zero a square of ``ratio`` of the image's size at a random place in each image."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio), int(w * ratio)
    top = torch.randint(0, h - ch + 1, (n, 1, 1), device=x.device)
    left = torch.randint(0, w - cw + 1, (n, 1, 1), device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (rows >= top) & (rows < top + ch) & (cols >= left) & (cols < left + cw)
    return x * (~inside).unsqueeze(1).to(x.dtype)


def _color(x: Tensor) -> Tensor:
    """Random brightness, saturation and contrast, per image (images in [-1, 1])."""
    n = x.shape[0]
    uniform = lambda low, high: torch.empty(n, 1, 1, 1, device=x.device).uniform_(low, high)  # noqa: E731
    x = x + uniform(-0.5, 0.5)
    grey = x.mean(1, keepdim=True)
    x = grey + (x - grey) * uniform(0.0, 2.0)
    mean = x.mean((1, 2, 3), keepdim=True)
    return mean + (x - mean) * uniform(0.5, 1.5)


POLICIES = {"translation": _translation, "cutout": _cutout, "color": _color}


def parse_policy(text: str) -> tuple[str, ...]:
    """``"translation,cutout"`` → the augmentations' names, checked; ``""`` or ``none``: none."""
    names = tuple(p.strip() for p in text.split(",") if p.strip() and p.strip() != "none")
    unknown = [p for p in names if p not in POLICIES]
    if unknown:
        raise ValueError(f"unknown augmentation {unknown[0]!r}: choose from {', '.join(POLICIES)}")
    return names


def diff_augment(x: Tensor, policy: tuple[str, ...]) -> Tensor:
    """``x`` ``[N, C, H, W]`` through each augmentation of ``policy`` in turn (a fresh random
    draw per image and call); the identity for an empty policy."""
    for name in policy:
        x = POLICIES[name](x)
    return x.contiguous()
