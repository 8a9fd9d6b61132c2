"""Colour-shift correction for diffusion outputs (StableSR's two options): the output keeps its
details but takes its colours from the bicubic upscaled input.

- ``adain``: per-channel mean and standard deviation of the reference, over the whole image.
- ``wavelet``: the output's high frequencies over the reference's low frequencies, split by an
  à trous (dilated Gaussian) decomposition, so local colour is fixed too.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from affine_sr.constants import COLOR_FIXES

__all__ = ["COLOR_FIXES", "adain", "color_fix", "wavelet"]


def adain(image: Tensor, reference: Tensor, eps: float = 1e-5) -> Tensor:
    """``image`` with each channel's mean and standard deviation taken from ``reference``."""
    mu, sd = image.mean((-2, -1), keepdim=True), image.std((-2, -1), keepdim=True)
    ref_mu, ref_sd = reference.mean((-2, -1), keepdim=True), reference.std((-2, -1), keepdim=True)
    return (image - mu) / (sd + eps) * ref_sd + ref_mu


def _low_pass(image: Tensor, levels: int) -> Tensor:
    """The coarsest band of an à trous decomposition: ``levels`` 3×3 binomial blurs with
    dilation 1, 2, 4, ..."""
    kernel = torch.tensor([1.0, 2.0, 1.0], dtype=image.dtype, device=image.device) / 4
    kernel = (kernel[:, None] * kernel[None, :]).expand(image.shape[1], 1, 3, 3)
    for level in range(levels):
        d = 2**level
        padded = F.pad(image, (d, d, d, d), mode="replicate")
        image = F.conv2d(padded, kernel, dilation=d, groups=image.shape[1])
    return image


def wavelet(image: Tensor, reference: Tensor, levels: int = 5) -> Tensor:
    """``image``'s detail bands over ``reference``'s low-frequency band."""
    return image - _low_pass(image, levels) + _low_pass(reference, levels)


def color_fix(image: Tensor, reference: Tensor, method: str) -> Tensor:
    """Apply ``method`` (one of :data:`COLOR_FIXES`); images ``[B, 3, H, W]`` of equal size."""
    if method not in COLOR_FIXES:
        raise ValueError(f"colour fix must be one of {', '.join(COLOR_FIXES)}, got {method!r}")
    if method == "none":
        return image
    if image.shape != reference.shape:
        raise ValueError(f"image {list(image.shape)} and reference {list(reference.shape)} differ")
    return (adain if method == "adain" else wavelet)(image, reference)
