"""Affine coupling (RealNVP/Glow) and quad-coupling (CInC) with bounded log-scales.

References:
    Dinh et al., "Density estimation using Real NVP", arXiv:1605.08803.
    Kingma & Dhariwal, "Glow", arXiv:1807.03039.
    Nagar, Dufraisse & Varma, "CInC Flow: Characterizable Invertible 3×3 Convolution",
    TPM workshop at UAI 2021, arXiv:2107.01358 (quad-coupling).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from app_toolkit.checkpoint import register_to_config
from core_flows.layers.base import FlowLayer

__all__ = ["AffineCoupling", "QuadCoupling", "conditioner"]


def conditioner(in_channels: int, out_channels: int, hidden_channels: int) -> nn.Sequential:
    """The 3-layer CNN of Glow: 3×3 → ReLU → 1×1 → ReLU → 3×3, last layer zero-initialised so
    that every coupling starts as the identity."""
    last = nn.Conv2d(hidden_channels, out_channels, 3, padding=1)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return nn.Sequential(
        nn.Conv2d(in_channels, hidden_channels, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(hidden_channels, hidden_channels, 1),
        nn.ReLU(),
        last,
    )


def _shift_and_log_scale(params: Tensor, bound: float) -> tuple[Tensor, Tensor]:
    shift, raw = params.chunk(2, dim=1)
    # tanh soft clamp: log-scale in (-bound, bound), zero at initialisation; avoids NaNs in training.
    return shift, bound * torch.tanh(raw / bound)


class AffineCoupling(FlowLayer):
    """``y_a = x_a``, ``y_b = (x_b + t(x_a)) · exp(s(x_a))`` with ``|s| < log_scale_bound``.

    ``x_a`` is the first ``channels // 2`` channels. ``[B, C, H, W]`` in and out.
    """

    @register_to_config
    def __init__(self, channels: int, hidden_channels: int = 512, log_scale_bound: float = 2.0):
        super().__init__()
        if channels < 2:
            raise ValueError(f"channels must be >= 2 for a coupling, got {channels}")
        if log_scale_bound <= 0:
            raise ValueError(f"log_scale_bound must be > 0, got {log_scale_bound}")
        self.sizes = [channels // 2, channels - channels // 2]
        self.bound = log_scale_bound
        self.net = conditioner(self.sizes[0], 2 * self.sizes[1], hidden_channels)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        xa, xb = x.split(self.sizes, dim=1)
        shift, log_s = _shift_and_log_scale(self.net(xa), self.bound)
        return torch.cat([xa, (xb + shift) * log_s.exp()], 1), log_s.sum((1, 2, 3))

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        za, zb = z.split(self.sizes, dim=1)
        shift, log_s = _shift_and_log_scale(self.net(za), self.bound)
        return torch.cat([za, zb * (-log_s).exp() - shift], 1), -log_s.sum((1, 2, 3))


class QuadCoupling(FlowLayer):
    """CInC quad-coupling: four channel blocks, each transformed given all blocks before it.

    ``y1 = x1``, ``y_j = (x_j + f_j(x_1..x_{j-1})) · s_j(x_1..x_{j-1})`` for ``j = 2, 3, 4``;
    the inverse recovers blocks 2, 3, 4 in that order. ``[B, C, H, W]`` in and out, ``C >= 4``.
    """

    @register_to_config
    def __init__(self, channels: int, hidden_channels: int = 512, log_scale_bound: float = 2.0):
        super().__init__()
        if channels < 4:
            raise ValueError(f"channels must be >= 4 for quad-coupling, got {channels}")
        if log_scale_bound <= 0:
            raise ValueError(f"log_scale_bound must be > 0, got {log_scale_bound}")
        self.sizes = [channels // 4 + (1 if i < channels % 4 else 0) for i in range(4)]
        self.bound = log_scale_bound
        self.nets = nn.ModuleList(
            conditioner(sum(self.sizes[:j]), 2 * self.sizes[j], hidden_channels) for j in (1, 2, 3)
        )

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        xs = x.split(self.sizes, dim=1)
        ys, logdet = [xs[0]], x.new_zeros(x.shape[0])
        for j, net in zip((1, 2, 3), self.nets):
            shift, log_s = _shift_and_log_scale(net(torch.cat(xs[:j], 1)), self.bound)
            ys.append((xs[j] + shift) * log_s.exp())
            logdet = logdet + log_s.sum((1, 2, 3))
        return torch.cat(ys, 1), logdet

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        zs = z.split(self.sizes, dim=1)
        xs, logdet = [zs[0]], z.new_zeros(z.shape[0])
        for j, net in zip((1, 2, 3), self.nets):  # block j needs the recovered blocks 1..j-1
            shift, log_s = _shift_and_log_scale(net(torch.cat(xs, 1)), self.bound)
            xs.append(zs[j] * (-log_s).exp() - shift)
            logdet = logdet - log_s.sum((1, 2, 3))
        return torch.cat(xs, 1), logdet
