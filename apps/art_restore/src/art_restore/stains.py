"""Water stains: a small network maps an image to the stain's two fields, which are then divided
out analytically.

A stain (:func:`art_restore.degrade.water_stain`) pulls the paint towards brown by an opacity
``a`` (up to :data:`~art_restore.degrade.STAIN_OPACITY`) and darkens its edge by ``d`` (up to
:data:`~art_restore.degrade.TIDE_DARKENING`): ``y = ((1 − a)·x + a·brown)·(1 − d)``. Both fields
are smooth or thin and follow the stain's outline, which a small U-Net finds far more easily than
the image itself: :class:`StainNet` predicts ``a`` and ``d`` (trained on the damage generator's own
fields, ``tools/train_stain_model.py``) and :func:`remove_stains` inverts
``x = (y / (1 − d) − a·brown) / (1 − a)``. The softening inside the stain is not undone.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from app_toolkit.checkpoint import PretrainedMixin, register_to_config
from art_restore.degrade import STAIN_BROWN, STAIN_OPACITY, TIDE_DARKENING
from art_restore.residual import _block  # the restorer's two-convolution block

__all__ = ["StainNet", "predict_stain", "remove_stains", "tide_share"]


class StainNet(nn.Module, PretrainedMixin):
    """``forward(x) -> [B, 2, H, W]`` in [0, 1] for ``x`` in [0, 1], ``[B, 3, H, W]``: the stain's
    opacity and tide line as shares of their largest values (any size: the decoder resizes to
    each skip connection)."""

    @register_to_config
    def __init__(self, widths: tuple[int, ...] = (16, 32, 48, 64)):
        super().__init__()
        widths = tuple(widths)
        self.encoders = nn.ModuleList(
            [_block(3, widths[0])] + [_block(a, b) for a, b in zip(widths, widths[1:])]
        )
        self.decoders = nn.ModuleList(
            [_block(b + a, a) for a, b in zip(widths[:-1], widths[1:])][::-1]
        )
        self.head = nn.Conv2d(widths[0], 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for k, encoder in enumerate(self.encoders):
            x = encoder(x if k == 0 else F.avg_pool2d(x, 2, ceil_mode=True))
            skips.append(x)
        skips.pop()
        for decoder in self.decoders:
            skip = skips.pop()
            up = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = decoder(torch.cat([up, skip], 1))
        return torch.sigmoid(self.head(x))

    @classmethod
    def load(cls, directory: str | os.PathLike, device: str = "cpu") -> StainNet:
        return cls.from_pretrained(Path(directory), device).float().eval()


@torch.inference_mode()
def predict_stain(
    net: StainNet, image: np.ndarray, tile: int = 1024, overlap: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """``float32 [H, W]`` opacity ``a`` and tide-line darkening ``d`` of ``image`` (``uint8
    [H, W, 3]``); images larger than ``tile`` in overlapping, blended tiles (memory depends on
    the tile size only)."""
    from affine_sr.tiling import tiled_apply

    x = torch.from_numpy(np.array(image)).permute(2, 0, 1)[None].float() / 255
    fields = tiled_apply(net, x.to(next(net.parameters()).device), 1, tile, overlap)
    fields = fields[0].cpu().numpy()
    return fields[0] * STAIN_OPACITY, fields[1] * TIDE_DARKENING


def remove_stains(net: StainNet, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``image`` (``uint8 [H, W, 3]``) with the predicted stain divided out; also the predicted
    opacity and tide-line fields."""
    a, d = predict_stain(net, image)
    x = image.astype(np.float32) / (1 - d[..., None])
    x = (x - a[..., None] * STAIN_BROWN) / (1 - a[..., None])
    return np.clip(x, 0, 255).round().astype(np.uint8), a, d


def tide_share(d: np.ndarray) -> float:
    """Share of pixels on a predicted tide line at least half as dark as the darkest: the
    evidence of a stain's edge that clean brown paint lacks."""
    return float((d > TIDE_DARKENING / 2).mean())
