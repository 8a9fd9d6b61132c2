"""The compact autoencoder of Affine-StableSR: an invertible flow of affine couplings in place of the
Stable Diffusion VAE, so the encoder and the decoder are one set of parameters.

The flow maps an image ``[B, 3, H, W]`` to ``[B, 3·f², H/f, W/f]`` (f = 2^levels) exactly and
invertibly. A diffusion prior works on a few channels (4, like the SD VAE's latent), so the flow's
output is split: the first ``latent_channels`` are the latent, the rest the *detail*. With both,
decoding is exact; the prior only produces the latent, and decoding then takes the detail as zero.
Training (stage 1) therefore adds a penalty on the detail, so that the flow learns to put what
matters into the latent and ``decode(latent)`` alone reconstructs the image well.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from app_toolkit.checkpoint import PretrainedMixin, register_to_config
from core_flows import AffineCoupling, FlowSequential, InvConv1x1, Squeeze

__all__ = ["CouplingAutoencoder"]


class CouplingAutoencoder(PretrainedMixin, nn.Module):
    """``encode(x) -> (latent, detail)``, ``decode(latent, detail=None) -> x``; images in [-1, 1].

    ``levels`` squeezes halve the resolution each (f = 2^levels; 3 gives SD's f = 8); after each,
    ``steps`` pairs of an invertible 1×1 convolution and an affine coupling with ``hidden``
    channels in its conditioner."""

    @register_to_config
    def __init__(
        self,
        in_channels: int = 3,
        levels: int = 3,
        steps: int = 2,
        hidden: int = 64,
        latent_channels: int = 4,
    ):
        super().__init__()
        if levels < 1 or steps < 1 or hidden < 1:
            raise ValueError(
                f"levels, steps and hidden must be >= 1, got {levels}, {steps}, {hidden}"
            )
        channels = in_channels * 4**levels
        if not 0 < latent_channels < channels:
            raise ValueError(f"latent_channels must be in 1..{channels - 1}, got {latent_channels}")
        layers, c = [], in_channels
        for _ in range(levels):
            layers.append(Squeeze(2))
            c *= 4
            for _ in range(steps):
                layers += [InvConv1x1(c), AffineCoupling(c, hidden)]
        layers.append(InvConv1x1(c))  # a last mixing, so the latent channels are learned
        self.flow = FlowSequential(*layers)
        self.factor, self.latent_channels, self.channels = 2**levels, latent_channels, c

    def _check(self, x: Tensor) -> None:
        if x.ndim != 4 or x.shape[-1] % self.factor or x.shape[-2] % self.factor:
            raise ValueError(
                f"expected images [B, C, H, W] with H and W multiples of {self.factor}, "
                f"got {list(x.shape)}"
            )

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(latent [B, latent_channels, H/f, W/f], detail [B, rest, H/f, W/f])``."""
        self._check(x)
        z, _ = self.flow(x)
        return z[:, : self.latent_channels], z[:, self.latent_channels :]

    def decode(self, latent: Tensor, detail: Tensor | None = None) -> Tensor:
        """The image; exact when ``detail`` is the encoder's, else the detail is taken as zero."""
        if detail is None:
            shape = (latent.shape[0], self.channels - self.latent_channels, *latent.shape[2:])
            detail = latent.new_zeros(shape)
        x, _ = self.flow.inverse(torch.cat([latent, detail], 1))
        return x

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Stage-1 training: ``(reconstruction from the latent alone, detail)``; penalise both."""
        latent, detail = self.encode(x)
        return self.decode(latent), detail
