"""Image grids and PNG plots (training curves, confusion matrices), written atomically.

Needs the ``plots`` extra (matplotlib, Pillow), imported only when a plot is made."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from app_toolkit.files import atomic_write

__all__ = ["image_grid", "plot_confusion_matrix", "plot_curves", "pyplot", "save_grid"]


def pyplot():
    """matplotlib's pyplot on the file-only Agg backend (no display is ever needed)."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError(
            "plots need matplotlib: pip install 'app-toolkit[plots]'"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def image_grid(images: Tensor, nrow: int = 8, pad: int = 1, upscale: int = 1) -> np.ndarray:
    """Tile images ``[N, C, H, W]`` in ``[0, 1]`` into an ``uint8`` array ``[H', W', C]``
    (C = 1 or 3), ``nrow`` per row, with ``pad`` white pixels between tiles."""
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"expected images [N, 1 or 3, H, W], got {list(images.shape)}")
    if nrow < 1 or pad < 0 or upscale < 1:
        raise ValueError(f"need nrow >= 1, pad >= 0, upscale >= 1; got {nrow}, {pad}, {upscale}")
    x = images.detach().float().cpu().clamp(0, 1)
    if upscale > 1:
        x = x.repeat_interleave(upscale, 2).repeat_interleave(upscale, 3)
    n, c, h, w = x.shape
    cols = min(nrow, n)
    rows = -(-n // cols)
    grid = torch.ones(c, rows * (h + pad) + pad, cols * (w + pad) + pad)
    for i in range(n):
        r, q = divmod(i, cols)
        top, left = pad + r * (h + pad), pad + q * (w + pad)
        grid[:, top : top + h, left : left + w] = x[i]
    return (grid.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)


def save_grid(
    images: Tensor, path: str | os.PathLike, nrow: int = 8, pad: int = 1, upscale: int = 1
) -> Path:
    """Save :func:`image_grid` as a PNG at ``path`` (atomically)."""
    from PIL import Image

    array = image_grid(images, nrow, pad, upscale)
    image = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
    return atomic_write(path, lambda p: image.save(p, format="PNG"))


def plot_curves(
    series: dict[str, tuple[Sequence[float], Sequence[float]]],
    path: str | os.PathLike,
    xlabel: str = "",
    ylabel: str = "",
    title: str = "",
) -> Path:
    """Line plot of named ``(x, y)`` series as a PNG (training losses and the like)."""
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, (x, y) in series.items():
        ax.plot(x, y, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend()
    fig.tight_layout()
    out = atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=100))
    plt.close(fig)
    return out


def plot_confusion_matrix(
    matrix: Sequence[Sequence[float]],
    path: str | os.PathLike,
    rows: Sequence[str],
    columns: Sequence[str],
    title: str = "",
    xlabel: str = "predicted",
    ylabel: str = "",
) -> Path:
    """A confusion matrix as a PNG: rows normalised to 1, each cell labelled with its share."""
    plt = pyplot()

    cm = np.asarray(matrix, float)
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.5 + 0.7 * cm.shape[1], 1 + 0.6 * cm.shape[0]))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for (i, j), v in np.ndenumerate(norm):
        color = "white" if v > 0.6 else "black"
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color=color)
    ax.set_xticks(range(cm.shape[1]), list(columns), rotation=30, ha="right")
    ax.set_yticks(range(cm.shape[0]), list(rows))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    out = atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=110, bbox_inches="tight"))
    plt.close(fig)
    return out
