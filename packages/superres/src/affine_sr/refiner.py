"""Pixel-space residual refinement after the coupling decoder.

The diffusion path decodes a latent; what it cannot express (the flow's latent is small, and a
CPU-trained prior learns little beyond bicubic) is left as an error in every pixel. The refiner
adds a correction predicted from the low-resolution input and the decoded estimate, so the
one-step result is a strong regression on its own and more sampling steps still add the prior's
detail. It works at the input's resolution on the space-to-depth rearranged estimate (``scale²``
times fewer positions than the output, as ESPCN), so it costs little beside the prior. Its last
layer starts at zero: an untrained refiner returns the estimate unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from app_toolkit.checkpoint import PretrainedMixin, register_to_config

__all__ = ["Refiner"]


class _Block(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


class Refiner(PretrainedMixin, nn.Module):
    """``refiner(lr, estimate) -> estimate + correction``; ``lr [B, 3, h, w]`` and ``estimate
    [B, 3, h·scale, w·scale]`` in [-1, 1]. ``blocks`` residual blocks of ``width`` channels at the
    input's resolution."""

    @register_to_config
    def __init__(self, scale: int = 4, width: int = 48, blocks: int = 6):
        super().__init__()
        if scale < 1 or width < 1 or blocks < 0:
            raise ValueError(
                f"need scale >= 1, width >= 1, blocks >= 0; got {scale}, {width}, {blocks}"
            )
        self.scale = scale
        self.head = nn.Conv2d(3 + 3 * scale**2, width, 3, padding=1)
        self.body = nn.Sequential(*(_Block(width) for _ in range(blocks)))
        self.tail = nn.Conv2d(width, 3 * scale**2, 3, padding=1)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward(self, lr: Tensor, estimate: Tensor) -> Tensor:
        s = self.scale
        if estimate.shape[-2:] != (lr.shape[-2] * s, lr.shape[-1] * s):
            raise ValueError(
                f"estimate {list(estimate.shape)} is not {s}× the input {list(lr.shape)}"
            )
        features = self.head(torch.cat([lr, F.pixel_unshuffle(estimate, s)], 1))
        features = features + self.body(features)
        return estimate + F.pixel_shuffle(self.tail(features), s)
