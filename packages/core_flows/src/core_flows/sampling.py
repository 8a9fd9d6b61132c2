"""Latent-space operations on trained flows: interpolation between images."""

from __future__ import annotations

import torch
from torch import Tensor

from core_flows.models import MultiScaleFlow

__all__ = ["interpolate"]


@torch.no_grad()
def interpolate(flow: MultiScaleFlow, x0: Tensor, x1: Tensor, n: int = 8) -> Tensor:
    """Decode ``n`` points on the straight line between the latents of ``x0`` and ``x1``
    (``[C, H, W]`` in ``[0, 1)``, every level's z included), endpoints included: ``[n, C, H, W]``."""
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    z0, _ = flow(x0[None])
    z1, _ = flow(x1[None])
    t = torch.linspace(0, 1, n, device=x0.device, dtype=x0.dtype).view(n, 1, 1, 1)
    zs = [a + t * (b - a) for a, b in zip(z0, z1)]
    return flow.inverse(zs)[0]
