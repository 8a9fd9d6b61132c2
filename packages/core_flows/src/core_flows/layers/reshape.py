"""Squeeze: space-to-depth, the reshaping between scales of a multi-scale flow."""

from __future__ import annotations

from torch import Tensor

from app_toolkit.checkpoint import register_to_config
from core_flows.layers.base import FlowLayer

__all__ = ["Squeeze"]


class Squeeze(FlowLayer):
    """``[B, C, H, W]`` → ``[B, C·f², H/f, W/f]``; each f×f block becomes f² channels. Logdet 0."""

    @register_to_config
    def __init__(self, factor: int = 2):
        super().__init__()
        if factor < 1:
            raise ValueError(f"factor must be >= 1, got {factor}")
        self.factor = factor

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        b, c, h, w = x.shape
        f = self.factor
        if h % f or w % f:
            raise ValueError(f"Squeeze({f}) needs height and width divisible by {f}, got {h}×{w}")
        z = x.reshape(b, c, h // f, f, w // f, f).permute(0, 1, 3, 5, 2, 4)
        return z.reshape(b, c * f * f, h // f, w // f), x.new_zeros(b)

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        b, c, h, w = z.shape
        f = self.factor
        if c % (f * f):
            raise ValueError(f"Squeeze({f}).inverse needs channels divisible by {f * f}, got {c}")
        x = z.reshape(b, c // (f * f), f, f, h, w).permute(0, 1, 4, 2, 5, 3)
        return x.reshape(b, c // (f * f), h * f, w * f), z.new_zeros(b)
