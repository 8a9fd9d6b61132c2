"""How the low-resolution image steers the diffusion prior (StableSR, Wang et al.,
arXiv:2305.07015): a time-aware encoder reads the LR latent together with the diffusion timestep
and produces features at the prior's resolutions; spatial feature transform (SFT) layers modulate
the prior's features with them, ``h · (1 + γ) + β``. The SFT output convolutions start at zero, so
attaching them to a frozen prior changes nothing until training moves them."""

from __future__ import annotations

import math

from torch import Tensor, nn

from app_toolkit.checkpoint import PretrainedMixin, register_to_config

__all__ = ["SFT", "TimeAwareEncoder", "group_count"]


def group_count(*channels: int) -> int:
    """The largest GroupNorm group count up to 32 that divides every channel count."""
    g = math.gcd(*channels)
    return max(d for d in range(1, 33) if g % d == 0)


class SFT(nn.Module):
    """``h · (1 + γ(c)) + β(c)`` with γ, β from condition features ``c`` of the same size."""

    def __init__(self, channels: int, cond_channels: int, hidden: int = 64):
        super().__init__()
        self.shared = nn.Sequential(nn.Conv2d(cond_channels, hidden, 3, padding=1), nn.SiLU())
        self.gamma = nn.Conv2d(hidden, channels, 3, padding=1)
        self.beta = nn.Conv2d(hidden, channels, 3, padding=1)
        for conv in (self.gamma, self.beta):  # identity at the start
            nn.init.zeros_(conv.weight)
            nn.init.zeros_(conv.bias)

    def forward(self, h: Tensor, cond: Tensor) -> Tensor:
        if cond.shape[-2:] != h.shape[-2:]:
            raise ValueError(
                f"condition {list(cond.shape)} does not match features {list(h.shape)}"
            )
        s = self.shared(cond)
        return h * (1 + self.gamma(s)) + self.beta(s)


class TimeAwareEncoder(PretrainedMixin, nn.Module):
    """LR latent ``[B, in_channels, h, w]`` and timesteps ``[B]`` → one feature map per entry of
    ``channels``, at ``h, h/2, h/4, ...`` (diffusers ResNet blocks with a timestep embedding)."""

    @register_to_config
    def __init__(
        self, in_channels: int = 4, channels: tuple[int, ...] = (64, 128, 256), time_dim: int = 128
    ):
        super().__init__()
        from diffusers.models.embeddings import TimestepEmbedding, Timesteps
        from diffusers.models.resnet import ResnetBlock2D

        if not channels:
            raise ValueError("channels must list at least one resolution")
        self.in_channels, self.channels = in_channels, tuple(channels)
        self.time_proj = Timesteps(time_dim, flip_sin_to_cos=True, downscale_freq_shift=0)
        self.time_embed = TimestepEmbedding(time_dim, time_dim)
        self.stem = nn.Conv2d(in_channels, channels[0], 3, padding=1)
        self.blocks = nn.ModuleList()
        self.downs = nn.ModuleList()
        previous = channels[0]
        for i, c in enumerate(channels):
            groups = group_count(previous, c)
            self.blocks.append(
                ResnetBlock2D(
                    in_channels=previous, out_channels=c, temb_channels=time_dim, groups=groups
                )
            )
            last = i == len(channels) - 1
            # a strided convolution (diffusers' Downsample2D aliases its weights under two names,
            # which safetensors refuses to save)
            self.downs.append(nn.Identity() if last else nn.Conv2d(c, c, 3, stride=2, padding=1))
            previous = c

    def forward(self, latent: Tensor, timesteps: Tensor) -> list[Tensor]:
        emb = self.time_embed(self.time_proj(timesteps).to(latent.dtype))
        h, features = self.stem(latent), []
        for block, down in zip(self.blocks, self.downs):
            h = block(h, emb)
            features.append(h)
            h = down(h)
        return features
