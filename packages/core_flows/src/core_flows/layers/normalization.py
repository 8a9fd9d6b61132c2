"""ActNorm: per-channel affine map initialised from the first batch (Glow).

References:
    Kingma & Dhariwal, "Glow: Generative Flow with Invertible 1x1 Convolutions", arXiv:1807.03039.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from app_toolkit.checkpoint import register_to_config
from core_flows.layers.base import FlowLayer

__all__ = ["ActNorm"]


class ActNorm(FlowLayer):
    """``y = (x + bias) · exp(log_scale)`` per channel, ``[B, C, H, W]`` in and out.

    On the first ``forward`` the parameters are set so that the batch has zero mean and unit variance
    per channel. Whether that happened is a buffer in the state dict, so a reloaded model is not
    re-initialised. A constant channel (zero variance) keeps scale 1 instead of dividing by zero.
    """

    @register_to_config
    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        if channels < 1:
            raise ValueError(f"channels must be >= 1, got {channels}")
        self.eps = eps
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.log_scale = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.register_buffer("initialized", torch.tensor(False))

    @torch.no_grad()
    def initialize(self, x: Tensor) -> None:
        """Data-dependent initialisation from a batch ``[B, C, H, W]``."""
        mean = x.mean(dim=(0, 2, 3), keepdim=True)
        std = x.std(dim=(0, 2, 3), keepdim=True, unbiased=False)
        self.bias.copy_(-mean)
        self.log_scale.copy_(torch.where(std > self.eps, -std.clamp_min(self.eps).log(), 0.0))
        self.initialized.fill_(True)

    def _logdet(self, x: Tensor) -> Tensor:
        return (self.log_scale.sum() * (x.shape[2] * x.shape[3])).expand(x.shape[0])

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if not bool(self.initialized):
            self.initialize(x)
        return (x + self.bias) * self.log_scale.exp(), self._logdet(x)

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        return z * (-self.log_scale).exp() - self.bias, -self._logdet(z)
