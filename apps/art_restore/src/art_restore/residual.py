"""The default restorer: a small network that starts as the identity and learns corrections only.

Two stages, both the identity at initialisation:

1. **Tone**: a per-image colour transform ``M · x + b`` (3×3 matrix and offset) predicted from
   global statistics of the image (per-channel quantiles, means, spread and saturation of a
   thumbnail). Fading and dulling are global affine maps of colour; a patch-wise network cannot
   tell a faded sky from a pale one, the whole image's statistics can.
2. **Local correction**: ``restored = toned + gate · tanh(correction)``, a U-Net working at half
   resolution (pixel-unshuffled input: 4× fewer positions, wider layers for the same cost) with a
   full-resolution tail. The correction's last layer starts at zero (an untrained or unsure model
   returns its input exactly) and the gate is the predicted damage map: per pixel, the
   probability that one of the damage families (:data:`FAMILIES`: tone, noise, blur, lines,
   stains) touched it, learnt from the damage generator's own masks. Undamaged areas are gated
   shut, so the restorer leaves a clean image alone. A global-context branch at the bottleneck
   lets whole-image kinds be judged from the whole image.

One model handles every kind and their mixes. It works in pixel space: no autoencoder puts an
error floor under every pixel.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from app_toolkit.checkpoint import PretrainedMixin, register_to_config
from art_restore.degrade import FAMILIES

__all__ = ["N_STATS", "ResidualRestorer", "image_stats", "restore_residual"]

QUANTILES = (0.005, 0.05, 0.25, 0.5, 0.75, 0.95, 0.995)
N_STATS = 3 * (len(QUANTILES) + 2) + 3
THUMBNAIL = 64  # statistics are taken on a thumbnail: cheap, and noise averages out
TAIL = 16  # channels of the full-resolution tail
SIGMAS = (0.7, 1.5, 3.0)  # the Gaussian filters whose differences the tail mixes per pixel


def _gaussian_kernels(sigmas: tuple[float, ...]) -> torch.Tensor:
    radius = int(np.ceil(3 * max(sigmas)))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernels = torch.stack([torch.exp(-0.5 * (t / s) ** 2) for s in sigmas])
    return kernels / kernels.sum(1, keepdim=True)


def _blurs(x: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """``[B, K, 3, H, W]``: ``x`` blurred by each of the K separable Gaussian ``kernels``."""
    b, c, h, w = x.shape
    k, size = kernels.shape
    pad = size // 2
    flat = x.reshape(b * c, 1, h, w)
    # reflect as in training; an image too small to reflect (a few pixels) is replicated
    wide, tall = ("reflect" if n > pad else "replicate" for n in (w, h))
    rows = F.conv2d(F.pad(flat, (pad, pad, 0, 0), mode=wide), kernels.view(k, 1, 1, size))
    both = F.conv2d(F.pad(rows, (0, 0, pad, pad), mode=tall), kernels.view(k, 1, size, 1),
                    groups=k)  # fmt: skip
    return both.view(b, c, k, h, w).transpose(1, 2)


def image_stats(x: torch.Tensor) -> torch.Tensor:
    """``[B, N_STATS]`` global statistics of ``x`` (``[B, 3, H, W]`` in [0, 1]): per-channel
    quantiles, mean and standard deviation, and the mean and quantiles of saturation, on a
    thumbnail of at most ``THUMBNAIL`` px a side."""
    h, w = x.shape[-2:]
    scale = min(1.0, THUMBNAIL / max(h, w))
    thumb = F.adaptive_avg_pool2d(x, (max(1, round(h * scale)), max(1, round(w * scale))))
    flat = thumb.flatten(2).float()  # [B, 3, N]
    levels = torch.tensor(QUANTILES, device=x.device)
    quantiles = torch.quantile(flat, levels, dim=-1).permute(1, 2, 0).flatten(1)
    saturation = flat.amax(1) - flat.amin(1)  # [B, N]
    spread = torch.quantile(saturation, levels[[3, 5]], dim=-1).T
    return torch.cat(
        [
            quantiles,
            flat.mean(-1),
            flat.std(-1, correction=0),
            saturation.mean(-1, keepdim=True),
            spread,
        ],
        1,
    )


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1),
        nn.LeakyReLU(0.1),
        nn.Conv2d(cout, cout, 3, padding=1),
        nn.LeakyReLU(0.1),
    )


class ResidualRestorer(nn.Module, PretrainedMixin):
    """``forward(x, stats=None) -> (restored, damage_logits)`` for ``x`` in [0, 1],
    ``[B, 3, H, W]`` (any size: padded to a multiple of ``2 ** len(widths)`` inside). ``stats``
    (:func:`image_stats`) default to those of ``x``; training passes those of the whole region a
    patch was cut from, as inference sees the whole image."""

    @register_to_config
    def __init__(self, widths: tuple[int, ...] = (64, 96, 128), families: int = len(FAMILIES)):
        super().__init__()
        widths = tuple(widths)
        self.tone = nn.Sequential(
            nn.Linear(N_STATS, 64), nn.LeakyReLU(0.1), nn.Linear(64, 64), nn.LeakyReLU(0.1),
            nn.Linear(64, 12),
        )  # fmt: skip
        self.down = nn.ModuleList()
        self.encoders = nn.ModuleList([_block(12, widths[0])])  # the unshuffled input
        for cin, cout in zip(widths, widths[1:]):
            self.down.append(nn.Conv2d(cin, cin, 3, stride=2, padding=1))
            self.encoders.append(_block(cin, cout))
        self.context = nn.Conv2d(2 * widths[-1], widths[-1], 1)
        self.up = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for cin, cout in zip(widths[::-1], widths[-2::-1]):
            self.up.append(nn.Conv2d(cin, cout, 3, padding=1))
            self.decoders.append(_block(2 * cout, cout))
        self.damage = nn.Sequential(
            nn.Conv2d(widths[0], widths[0], 3, padding=1),
            nn.LeakyReLU(0.1),
            nn.Conv2d(widths[0], 4 * families, 3, padding=1),
            nn.PixelShuffle(2),
        )
        self.expand = nn.Sequential(
            nn.Conv2d(widths[0], 4 * TAIL, 3, padding=1), nn.PixelShuffle(2)
        )
        self.tail = nn.Sequential(nn.Conv2d(TAIL + 3, TAIL, 3, padding=1), nn.LeakyReLU(0.1))
        # per pixel: a free correction (3) and how much of each blur difference to add (K)
        self.correction = nn.Conv2d(TAIL, 3 + len(SIGMAS), 3, padding=1)
        self.register_buffer("kernels", _gaussian_kernels(SIGMAS), persistent=False)
        for module in self.modules():  # variance-preserving: without normalisation layers,
            if isinstance(module, nn.Conv2d):  # the default init shrinks activations per layer
                nn.init.kaiming_normal_(module.weight, a=0.1, nonlinearity="leaky_relu")
                nn.init.zeros_(module.bias)
        for module in self.tone:  # the same for the tone head's hidden layers
            if isinstance(module, nn.Linear):
                nn.init.kaiming_normal_(module.weight, a=0.1, nonlinearity="leaky_relu")
                nn.init.zeros_(module.bias)
        for last in (self.correction, self.tone[-1]):  # the identity at initialisation
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        self.multiple = 2 ** len(widths)

    def toned(self, x: torch.Tensor, stats: torch.Tensor | None = None) -> torch.Tensor:
        """Stage 1: ``x`` after the per-image colour transform (``x`` itself when it is zero)."""
        stats = image_stats(x) if stats is None else stats
        params = self.tone(2 * stats - 1)  # the statistics are in [0, 1]: centre them
        matrix, offset = params[:, :9].view(-1, 3, 3), params[:, 9:, None, None]
        return x + torch.einsum("bij,bjhw->bihw", matrix, x) + offset

    def forward(
        self, x: torch.Tensor, stats: torch.Tensor | None = None, tone: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h, w = x.shape[-2:]
        toned = self.toned(x, stats) if tone else x
        pad_h, pad_w = -h % self.multiple, -w % self.multiple
        padded = F.pad(toned, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else toned
        skips, y = [], self.encoders[0](F.pixel_unshuffle(padded, 2))
        for down, encoder in zip(self.down, self.encoders[1:]):
            skips.append(y)
            y = encoder(down(y))
        context = y.mean((2, 3), keepdim=True).expand_as(y)
        y = F.leaky_relu(self.context(torch.cat([y, context], 1)), 0.1)
        for up, decoder, skip in zip(self.up, self.decoders, reversed(skips)):
            y = up(F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False))
            y = decoder(torch.cat([F.leaky_relu(y, 0.1), skip], 1))
        # The map reads the trunk's features but does not train them: its loss would otherwise
        # swamp the correction's (whose last layer starts at zero) and the trunk would learn
        # to find damage instead of to repair it.
        logits = self.damage(y.detach())[..., :h, :w]
        gate = torch.sigmoid(logits).amax(1, keepdim=True)
        tail = self.tail(torch.cat([F.leaky_relu(self.expand(y), 0.1), padded], 1))
        # The correction: a free term plus a per-pixel mix of blur differences (blur - toned),
        # positive weights smoothing (noise, blocks), negative ones sharpening (blur): filters a
        # small network finds fast. tanh bounds each term, which keeps the product of gate
        # and correction stable while both learn; tanh(0) = 0 keeps the identity.
        out = self.correction(tail)[..., :h, :w]
        details = _blurs(toned, self.kernels) - toned[:, None]
        mix = (2 * torch.tanh(out[:, 3:, None]) * details).sum(1)
        restored = toned + gate * (torch.tanh(out[:, :3]) + mix)
        return restored, logits

    # the calibrated damage detector that ships beside the weights (``detector.json``), if any:
    # with it, :func:`art_restore.restorer.restore_image` leaves undamaged images untouched
    detector = None
    # the water-stain expert's model (``stains/`` beside the weights), if any
    stains = None

    @classmethod
    def load(cls, directory: str | os.PathLike, device: str = "cpu") -> ResidualRestorer:
        from art_restore.detect import DamageDetector
        from art_restore.stains import StainNet

        model = cls.from_pretrained(Path(directory), device).float().eval()
        path = Path(directory) / "detector.json"
        if path.is_file():
            model.detector = DamageDetector.load(path)
        if (Path(directory) / "stains").is_dir():
            # not a submodule: the restorer's state dict (its weights, its fingerprint) stays
            # the network's own
            object.__setattr__(model, "stains", StainNet.load(Path(directory) / "stains", device))
        return model


@torch.inference_mode()
def restore_residual(
    model: ResidualRestorer,
    image: np.ndarray,
    with_map: bool = False,
    tile: int = 1024,
    overlap: int = 64,
    tone: bool = True,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """``uint8 [H, W, 3]`` → the restored image (and, with ``with_map``, the damage map: ``float
    [len(FAMILIES), H, W]`` probabilities). Images larger than ``tile`` are restored in
    overlapping, blended tiles (memory depends on the tile size only); every tile gets the
    whole image's statistics, so the tone stage treats the image as one. ``tone=False`` skips
    the tone stage (for images whose colours are not damaged)."""
    from affine_sr.tiling import tiled_apply

    device = next(model.parameters()).device
    # a copy: the caller's array may be read-only (torch warns on non-writable arrays)
    x = torch.from_numpy(np.array(image)).to(device).permute(2, 0, 1)[None].float()
    x = x / 255
    stats = image_stats(x)
    both = tiled_apply(lambda t: torch.cat(model(t, stats, tone), 1), x, 1, tile, overlap)
    restored, logits = both[:, :3], both[:, 3:]
    out = (restored[0].permute(1, 2, 0) * 255).clamp(0, 255).round().to(torch.uint8).cpu().numpy()
    return (out, torch.sigmoid(logits[0]).cpu().numpy()) if with_map else out
