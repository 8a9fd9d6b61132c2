"""Invertible 1×1 convolution with an LU-decomposed weight (Glow).

References:
    Kingma & Dhariwal, "Glow: Generative Flow with Invertible 1x1 Convolutions", arXiv:1807.03039.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from app_toolkit.checkpoint import register_to_config
from core_flows.layers.base import FlowLayer

__all__ = ["InvConv1x1"]


class InvConv1x1(FlowLayer):
    """``y = W x`` per pixel with ``W = P · L · (U + diag(sign · exp(log_s)))``.

    ``P`` (a permutation) and the signs are fixed buffers; ``L`` is unit lower-triangular, ``U``
    strictly upper-triangular. Initialised from a random rotation; ``log|det| = H·W·Σ log_s``.
    """

    @register_to_config
    def __init__(self, channels: int):
        super().__init__()
        if channels < 1:
            raise ValueError(f"channels must be >= 1, got {channels}")
        q = torch.linalg.qr(torch.randn(channels, channels, dtype=torch.float64))[0]
        p, lower, upper = torch.linalg.lu(q)
        s = torch.diagonal(upper)
        self.register_buffer("perm", p.float())
        self.register_buffer("sign_s", torch.sign(s).float())
        self.lower = nn.Parameter(torch.tril(lower, -1).float())
        self.upper = nn.Parameter(torch.triu(upper, 1).float())
        self.log_s = nn.Parameter(s.abs().log().float())

    def matrix(self) -> Tensor:
        """The ``[C, C]`` weight."""
        eye = torch.eye(self.lower.shape[0], device=self.lower.device, dtype=self.lower.dtype)
        lower = torch.tril(self.lower, -1) + eye
        upper = torch.triu(self.upper, 1) + torch.diag(self.sign_s * self.log_s.exp())
        return self.perm @ lower @ upper

    def _logdet(self, x: Tensor) -> Tensor:
        return (self.log_s.sum() * (x.shape[2] * x.shape[3])).expand(x.shape[0])

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        w = self.matrix().to(x.dtype)
        return F.conv2d(x, w[:, :, None, None]), self._logdet(x)

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        w_inv = torch.linalg.inv(self.matrix().double()).to(z.dtype)
        return F.conv2d(z, w_inv[:, :, None, None]), -self._logdet(z)
