"""The default restorer: a small U-Net that starts as the identity and learns corrections only.

``restored = damaged + gate · correction``, where the correction head's last layer starts at zero
(an untrained or unsure model returns its input exactly) and the gate is the predicted damage
map: per pixel, the probability that one of the damage families (:data:`FAMILIES`: tone, noise,
blur, lines, stains) touched it, learnt from the damage generator's own masks. Undamaged areas
are gated shut, so the restorer leaves a clean image alone. A global-context branch at the
bottleneck (the mean of its features, broadcast back) lets the whole-image kinds (faded, dull)
be judged from the whole image, not a patch.

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

__all__ = ["ResidualRestorer", "restore_residual"]


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1),
        nn.LeakyReLU(0.1),
        nn.Conv2d(cout, cout, 3, padding=1),
        nn.LeakyReLU(0.1),
    )


class ResidualRestorer(nn.Module, PretrainedMixin):
    """``forward(x) -> (restored, damage_logits)`` for ``x`` in [0, 1], ``[B, 3, H, W]`` (any
    size: padded to a multiple of ``2 ** (len(widths) - 1)`` inside)."""

    @register_to_config
    def __init__(self, widths: tuple[int, ...] = (24, 48, 96, 128), families: int = len(FAMILIES)):
        super().__init__()
        widths = tuple(widths)
        self.down = nn.ModuleList()
        self.encoders = nn.ModuleList([_block(3, widths[0])])
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
            nn.Conv2d(widths[0], families, 3, padding=1),
        )
        self.correction = nn.Conv2d(widths[0], 3, 3, padding=1)
        for module in self.modules():  # variance-preserving: without normalisation layers,
            if isinstance(module, nn.Conv2d):  # the default init shrinks activations per layer
                nn.init.kaiming_normal_(module.weight, a=0.1, nonlinearity="leaky_relu")
                nn.init.zeros_(module.bias)
        nn.init.zeros_(self.correction.weight)  # the identity at initialisation
        nn.init.zeros_(self.correction.bias)
        self.multiple = 2 ** (len(widths) - 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, w = x.shape[-2:]
        pad_h, pad_w = -h % self.multiple, -w % self.multiple
        padded = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else x
        skips, y = [], self.encoders[0](padded)
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
        # tanh: a correction never leaves [-1, 1] (the pixel range), which keeps the product
        # of gate and correction stable while both learn; tanh(0) = 0 keeps the identity
        restored = x + gate * torch.tanh(self.correction(y)[..., :h, :w])
        return restored, logits

    @classmethod
    def load(cls, directory: str | os.PathLike, device: str = "cpu") -> ResidualRestorer:
        return cls.from_pretrained(Path(directory), device).float().eval()


@torch.inference_mode()
def restore_residual(
    model: ResidualRestorer,
    image: np.ndarray,
    with_map: bool = False,
    tile: int = 1024,
    overlap: int = 64,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """``uint8 [H, W, 3]`` → the restored image (and, with ``with_map``, the damage map: ``float
    [len(FAMILIES), H, W]`` probabilities). Images larger than ``tile`` are restored in
    overlapping, blended tiles: memory depends on the tile size only."""
    from affine_sr.tiling import tiled_apply

    device = next(model.parameters()).device
    x = torch.from_numpy(np.ascontiguousarray(image)).to(device).permute(2, 0, 1)[None].float()
    both = tiled_apply(lambda t: torch.cat(model(t), 1), x / 255, 1, tile, overlap)
    restored, logits = both[:, :3], both[:, 3:]
    out = (restored[0].permute(1, 2, 0) * 255).clamp(0, 255).round().to(torch.uint8).cpu().numpy()
    return (out, torch.sigmoid(logits[0]).cpu().numpy()) if with_map else out
