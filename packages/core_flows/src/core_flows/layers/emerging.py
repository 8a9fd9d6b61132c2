"""Emerging convolution: two raster-masked k×k convolutions, the second in reversed raster order.

References:
    Hoogeboom, van den Berg & Welling, "Emerging Convolutions for Generative Normalizing Flows",
    ICML 2019, arXiv:1901.11137.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from app_toolkit.checkpoint import register_to_config
from core_flows.functional import masked_conv2d, masked_conv2d_inverse, raster_mask
from core_flows.layers.base import FlowLayer

__all__ = ["EmergingConv2d"]


class EmergingConv2d(FlowLayer):
    """``z = flip(conv_b(flip(conv_a(x))))`` with raster-masked kernels ``a`` and ``b``.

    Each centre tap is lower-triangular with a learnable positive diagonal, so
    ``log|det| = H·W·(Σ log d_a + Σ log d_b)``. The inverse is solved pixel by pixel in raster order
    (``2·H·W`` sequential steps), which is what makes Emerging slow to sample.
    """

    @register_to_config
    def __init__(self, channels: int, kernel_size: int = 3):
        super().__init__()
        if channels < 1:
            raise ValueError(f"channels must be >= 1, got {channels}")
        mask = raster_mask(channels, kernel_size)  # raises for even kernel sizes
        c = kernel_size // 2
        centre = torch.zeros(1, 1, kernel_size, kernel_size)
        centre[..., c, c] = 1.0
        self.register_buffer("_mask", mask * (1 - centre), persistent=False)
        self.register_buffer("_centre", centre, persistent=False)
        std = 0.1 / (channels * kernel_size**2) ** 0.5
        self.weights = nn.Parameter(
            torch.randn(2, channels, channels, kernel_size, kernel_size) * std
        )
        self.log_diag = nn.Parameter(torch.zeros(2, channels))
        self._c = c

    def kernel(self, i: int) -> Tensor:
        """Effective masked weight ``[C, C, k, k]`` of convolution ``i`` (0 or 1)."""
        centre_tap = torch.tril(self.weights[i, :, :, self._c, self._c], -1)
        centre_tap = centre_tap + torch.diag(self.log_diag[i].exp())
        return self.weights[i] * self._mask + centre_tap[:, :, None, None] * self._centre

    def _logdet(self, x: Tensor) -> Tensor:
        return (self.log_diag.sum() * (x.shape[2] * x.shape[3])).expand(x.shape[0])

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = masked_conv2d(x, self.kernel(0).to(x.dtype))
        z = masked_conv2d(h.flip(2, 3), self.kernel(1).to(x.dtype)).flip(2, 3)
        return z, self._logdet(x)

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        h = masked_conv2d_inverse(z.flip(2, 3), self.kernel(1).to(z.dtype)).flip(2, 3)
        return masked_conv2d_inverse(h, self.kernel(0).to(z.dtype)), -self._logdet(z)
