"""Tiled inference: any image size in bounded memory.

The input is cut into overlapping tiles, each tile is processed on its own, and the outputs are
blended with weights that fall linearly to the tile edges inside the overlap, so no seam shows and
memory depends on the tile size only.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["tile_starts", "tiled_apply"]


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of size ``tile`` covering ``length`` with at least ``overlap``."""
    if tile <= overlap:
        raise ValueError(f"tile ({tile}) must be larger than the overlap ({overlap})")
    if length <= tile:
        return [0]
    step = tile - overlap
    starts = list(range(0, length - tile, step)) + [length - tile]
    return sorted(set(starts))


def _ramp(size: int, overlap: int, at_start: bool, at_end: bool) -> Tensor:
    """1 inside, rising linearly over ``overlap`` at an edge shared with another tile."""
    w = torch.ones(size)
    if overlap > 0:
        ramp = (torch.arange(overlap) + 0.5) / overlap
        if not at_start:
            w[:overlap] = ramp
        if not at_end:
            w[-overlap:] = ramp.flip(0)
    return w


def tiled_apply(
    fn: Callable[[Tensor], Tensor],
    image: Tensor,
    scale: int,
    tile: int = 128,
    overlap: int = 16,
) -> Tensor:
    """``fn`` (``[B, C, h, w] -> [B, C', h·scale, w·scale]``) applied tile by tile to ``image``
    ``[B, C, H, W]`` and blended; the output is ``[B, C', H·scale, W·scale]``. Only one tile's
    input and output, and the output canvas, are in memory at a time."""
    if image.ndim != 4:
        raise ValueError(f"expected [B, C, H, W], got {list(image.shape)}")
    if scale < 1 or overlap < 0:
        raise ValueError(f"need scale >= 1 and overlap >= 0, got {scale} and {overlap}")
    b, _, h, w = image.shape
    ys, xs = tile_starts(h, tile, overlap), tile_starts(w, tile, overlap)
    out = weight = None
    for y in ys:
        for x in xs:
            piece = fn(image[:, :, y : y + tile, x : x + tile])
            th, tw = piece.shape[-2:]
            if out is None:
                out = piece.new_zeros(b, piece.shape[1], h * scale, w * scale)
                weight = piece.new_zeros(1, 1, h * scale, w * scale)
            o = overlap * scale
            wy = _ramp(th, o, y == 0, y + tile >= h).to(piece)
            wx = _ramp(tw, o, x == 0, x + tile >= w).to(piece)
            mask = (wy[:, None] * wx[None, :])[None, None]
            out[:, :, y * scale : y * scale + th, x * scale : x * scale + tw] += piece * mask
            weight[:, :, y * scale : y * scale + th, x * scale : x * scale + tw] += mask
    return out / weight.clamp_min(1e-8)
