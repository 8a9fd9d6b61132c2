"""Multi-scale flows (Glow architecture) with a choice of invertible convolution per step.

``x`` in ``[0, 1)`` (dequantised data) → preprocessing (``x − ½`` or logit) → for each level:
squeeze → K steps → split off half the channels under a learned conditional Gaussian prior; the
last level ends in ``N(0, I)``. Presets choose the step:

============== ==============================================================
preset         step
============== ==============================================================
glow           ActNorm → 1×1 conv → coupling
cinc           ActNorm → CInC k×k conv → coupling (affine or quad)
finc           FInC unit → ActNorm → 1×1 conv → coupling
inverse_flow   Inverse-Flow unit → ActNorm → 1×1 conv → coupling
emerging       ActNorm → Emerging k×k conv → 1×1 conv → coupling
============== ==============================================================

References:
    Kingma & Dhariwal, "Glow", arXiv:1807.03039.
    Nagar, Dufraisse & Varma, "CInC Flow: Characterizable Invertible 3×3 Convolution",
    TPM workshop at UAI 2021, arXiv:2107.01358.
    Kallappa, Nagar & Varma, "FInC Flow: Fast and Invertible k×k Convolutions for Normalizing
    Flows", VISAPP 2023, arXiv:2301.09266.
    Nagar & Varma, "Parallel Backpropagation for Inverse of a Convolution with Application to
    Normalizing Flows" (Inverse-Flow), AISTATS 2025, arXiv:2410.14634.
    Hoogeboom et al., "Emerging Convolutions for Generative Normalizing Flows", arXiv:1901.11137.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from app_toolkit.checkpoint import PretrainedMixin, register_to_config
from core_flows.constants import COUPLINGS, PAPER_CONFIGS, PRESETS
from core_flows.layers import (
    ActNorm,
    AffineCoupling,
    CInCConv2d,
    EmergingConv2d,
    FInCUnit,
    FlowSequential,
    InvConv1x1,
    InverseFlowUnit,
    QuadCoupling,
    Squeeze,
)

__all__ = ["PAPER_CONFIGS", "PRESETS", "MultiScaleFlow", "build_flow", "flow_step"]

LOG_2PI = math.log(2 * math.pi)


def flow_step(
    preset: str,
    channels: int,
    width: int,
    kernel_size: int = 3,
    coupling: str = "affine",
    log_scale_bound: float = 2.0,
    backend: str = "auto",
) -> FlowSequential:
    """One step of ``preset`` on ``channels`` channels (see the module docstring)."""
    if coupling not in COUPLINGS:
        raise ValueError(f"coupling must be one of {COUPLINGS}, got {coupling!r}")
    cls = AffineCoupling if coupling == "affine" else QuadCoupling
    couple = cls(channels, hidden_channels=width, log_scale_bound=log_scale_bound)
    if preset == "glow":
        layers = [ActNorm(channels), InvConv1x1(channels)]
    elif preset == "cinc":
        layers = [ActNorm(channels), CInCConv2d(channels, kernel_size, backend=backend)]
    elif preset == "finc":
        layers = [FInCUnit(channels, kernel_size, backend), ActNorm(channels), InvConv1x1(channels)]
    elif preset == "inverse_flow":
        layers = [
            InverseFlowUnit(channels, kernel_size, backend),
            ActNorm(channels),
            InvConv1x1(channels),
        ]
    elif preset == "emerging":
        layers = [ActNorm(channels), EmergingConv2d(channels, kernel_size), InvConv1x1(channels)]
    else:
        raise ValueError(f"preset must be one of {PRESETS}, got {preset!r}")
    return FlowSequential(*layers, couple)


class SplitPrior(nn.Module):
    """Conditional Gaussian of the factored-out half given the kept half (zero-initialised)."""

    def __init__(self, kept: int, factored: int):
        super().__init__()
        self.conv = nn.Conv2d(kept, 2 * factored, 3, padding=1)
        nn.init.zeros_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)

    def forward(self, kept: Tensor) -> tuple[Tensor, Tensor]:
        mean, log_std = self.conv(kept).chunk(2, dim=1)
        return mean, log_std


def _gaussian_log_prob(z: Tensor, mean: Tensor | None = None, log_std: Tensor | None = None):
    if mean is None:
        return -0.5 * (z**2 + LOG_2PI).flatten(1).sum(1)
    return (-0.5 * (((z - mean) * (-log_std).exp()) ** 2 + LOG_2PI) - log_std).flatten(1).sum(1)


class MultiScaleFlow(PretrainedMixin, nn.Module):
    """A multi-scale normalizing flow on images ``[B, C, H, W]`` with values in ``[0, 1)``.

    Args:
        preset: ``glow``, ``cinc``, ``finc``, ``inverse_flow`` or ``emerging``.
        image_shape: ``(C, H, W)``; ``H`` and ``W`` divisible by ``2**levels``.
        levels: number of scales ``L``.
        steps: flow steps per level ``K``.
        width: hidden channels of the coupling conditioners.
        kernel_size: k of the k×k invertible convolutions.
        coupling: ``affine`` or ``quad`` (CInC quad-coupling).
        num_levels: quantisation levels of the data (256 for 8-bit), for bits/dim.
        logit_alpha: if set, preprocess with ``logit(α + (1 − 2α)x)`` instead of ``x − ½``.
        log_scale_bound: bound of the couplings' log-scales.
        backend: inverse backend of the k×k convolutions (``auto`` picks per device).
    """

    @register_to_config
    def __init__(
        self,
        preset: str = "finc",
        image_shape: Sequence[int] = (1, 28, 28),
        levels: int = 2,
        steps: int = 4,
        width: int = 64,
        kernel_size: int = 3,
        coupling: str = "affine",
        num_levels: int = 256,
        logit_alpha: float | None = None,
        log_scale_bound: float = 2.0,
        backend: str = "auto",
    ):
        super().__init__()
        c, h, w = (int(v) for v in image_shape)
        if levels < 1 or steps < 1 or width < 1:
            raise ValueError(
                f"levels, steps and width must be >= 1, got {levels}, {steps}, {width}"
            )
        if h % 2**levels or w % 2**levels:
            raise ValueError(
                f"image height and width must be divisible by 2**levels = {2**levels}, got {h}×{w}"
            )
        if num_levels < 2:
            raise ValueError(f"num_levels must be >= 2, got {num_levels}")
        if logit_alpha is not None and not 0 <= logit_alpha < 0.5:
            raise ValueError(f"logit_alpha must be in [0, 0.5), got {logit_alpha}")
        self.image_shape = (c, h, w)
        self.num_levels = num_levels
        self.logit_alpha = logit_alpha
        self.squeeze = Squeeze(2)
        self.blocks = nn.ModuleList()
        self.priors = nn.ModuleList()
        self.latent_shapes: list[tuple[int, int, int]] = []
        for level in range(levels):
            c, h, w = c * 4, h // 2, w // 2
            self.blocks.append(
                FlowSequential(
                    *(
                        flow_step(preset, c, width, kernel_size, coupling, log_scale_bound, backend)
                        for _ in range(steps)
                    )
                )
            )
            if level < levels - 1:
                factored = c // 2
                self.priors.append(SplitPrior(c - factored, factored))
                self.latent_shapes.append((factored, h, w))
                c -= factored
        self.latent_shapes.append((c, h, w))

    @property
    def dims(self) -> int:
        """Number of dimensions ``D = C·H·W`` of one image."""
        c, h, w = self.image_shape
        return c * h * w

    def _check(self, x: Tensor) -> None:
        if x.ndim != 4 or tuple(x.shape[1:]) != self.image_shape:
            raise ValueError(
                f"expected images of shape [B, {', '.join(map(str, self.image_shape))}], "
                f"got {list(x.shape)}"
            )

    # preprocessing: data in [0, 1) ↔ the flow's input space, with its log-determinant
    def _preprocess(self, x: Tensor) -> tuple[Tensor, Tensor]:
        a = self.logit_alpha
        if a is None:
            return x - 0.5, x.new_zeros(x.shape[0])
        s = a + (1 - 2 * a) * x
        y = torch.log(s) - torch.log1p(-s)
        logdet = (math.log(1 - 2 * a) - torch.log(s) - torch.log1p(-s)).flatten(1).sum(1)
        return y, logdet

    def _postprocess(self, y: Tensor) -> tuple[Tensor, Tensor]:
        a = self.logit_alpha
        if a is None:
            return y + 0.5, y.new_zeros(y.shape[0])
        s = torch.sigmoid(y)
        logdet = (F.logsigmoid(y) + F.logsigmoid(-y) - math.log(1 - 2 * a)).flatten(1).sum(1)
        return (s - a) / (1 - 2 * a), logdet

    def _encode(self, x: Tensor) -> tuple[list[Tensor], Tensor, Tensor]:
        self._check(x)
        h, logdet = self._preprocess(x)
        zs, log_prior = [], x.new_zeros(x.shape[0])
        for level, block in enumerate(self.blocks):
            h, _ = self.squeeze(h)
            h, ld = block(h)
            logdet = logdet + ld
            if level < len(self.priors):
                n_factored = self.latent_shapes[level][0]
                kept, factored = h.split([h.shape[1] - n_factored, n_factored], dim=1)
                mean, log_std = self.priors[level](kept)
                log_prior = log_prior + _gaussian_log_prob(factored, mean, log_std)
                zs.append(factored)
                h = kept
        zs.append(h)
        return zs, logdet, log_prior + _gaussian_log_prob(h)

    def forward(self, x: Tensor) -> tuple[list[Tensor], Tensor]:
        """Encode ``x [B, C, H, W]`` to every level's latent (finest first) and ``log|det| [B]``
        of the whole map, preprocessing included."""
        zs, logdet, _ = self._encode(x)
        return zs, logdet

    def inverse(self, zs: Sequence[Tensor]) -> tuple[Tensor, Tensor]:
        """Decode the latents of :meth:`forward` back to ``x``; exact when given every level's z."""
        if len(zs) != len(self.blocks):
            raise ValueError(f"expected {len(self.blocks)} latents (one per level), got {len(zs)}")
        h = zs[-1]
        logdet = h.new_zeros(h.shape[0])
        for level in reversed(range(len(self.blocks))):
            if level < len(self.priors):
                h = torch.cat([h, zs[level]], dim=1)
            h, ld = self.blocks[level].inverse(h)
            logdet = logdet + ld
            h, _ = self.squeeze.inverse(h)
        x, ld = self._postprocess(h)
        return x, logdet + ld

    def log_prob(self, x: Tensor) -> Tensor:
        """``log p(x)`` per image ``[B]`` for continuous ``x`` in ``[0, 1)``."""
        _, logdet, log_prior = self._encode(x)
        return log_prior + logdet

    def bits_per_dim(self, x: Tensor) -> Tensor:
        """Bits per dimension of dequantised ``x`` ``[B]``: the discrete data's ``−log₂ P`` per dim
        (the ``[0, 1)`` density rescaled to the ``num_levels`` grid)."""
        nll = -self.log_prob(x) + self.dims * math.log(self.num_levels)
        return nll / (self.dims * math.log(2))

    @torch.no_grad()
    def sample(
        self, n: int, temperature: float = 1.0, generator: torch.Generator | None = None
    ) -> Tensor:
        """``n`` images ``[n, C, H, W]`` in (about) ``[0, 1)``; ``temperature`` scales every prior's
        standard deviation."""
        ref = next(self.parameters())

        def noise(shape):
            eps = torch.randn((n, *shape), generator=generator, dtype=ref.dtype, device="cpu")
            return eps.to(ref.device) * temperature

        h = noise(self.latent_shapes[-1])
        # split priors depend on the decoded kept half: decode level by level from the top
        for level in reversed(range(len(self.blocks))):
            if level < len(self.priors):
                mean, log_std = self.priors[level](h)
                factored = mean + log_std.exp() * noise(self.latent_shapes[level])
                h = torch.cat([h, factored], dim=1)
            h, _ = self.blocks[level].inverse(h)
            h, _ = self.squeeze.inverse(h)
        return self._postprocess(h)[0]

    @torch.no_grad()
    def initialize(self, x: Tensor) -> None:
        """Data-dependent initialisation (ActNorm) from a batch of dequantised images."""
        self._encode(x)


def build_flow(
    preset: str,
    image_shape: Sequence[int],
    levels: int,
    steps: int,
    width: int,
    kernel_size: int = 3,
    **kwargs,
) -> MultiScaleFlow:
    """Build a :class:`MultiScaleFlow`; ``kwargs`` go to its constructor (coupling, num_levels, ...)."""
    return MultiScaleFlow(preset, tuple(image_shape), levels, steps, width, kernel_size, **kwargs)
