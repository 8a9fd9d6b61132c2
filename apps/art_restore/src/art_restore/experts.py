"""One restorer, several experts: each kind of damage is repaired by the method that gains on it,
and an image (or region) without measured damage is returned exactly as it came.

:func:`restore_guarded` runs the damage detector (:mod:`art_restore.detect`), then

- ``pixelate``: the block grid is found, each block's colour taken as one sample at the block's
  centre, and the image rebuilt by bicubic interpolation between the centres;
- ``fade``: the pale veil's strength from the image's darkest pixels, then the veil divided out;
- ``noise``, ``gaussian_noise``, ``rain``, ``scratches``, ``cracks``: the residual network (its
  tone stage only for the kinds that change brightness along lines);
- ``blur``: unsharp masking (after the network, so that noise is not sharpened);
- other kinds (motion and radial blur, dullness, water stains): no expert gains on them yet, so
  they are reported and left as they are.

Every decision is returned in a report (kinds found with their probabilities, experts run, the
share of the image each one changed).
"""

from __future__ import annotations

import cv2
import numpy as np

from art_restore.baselines import unsharp
from art_restore.detect import DamageDetector, block_grid
from art_restore.residual import ResidualRestorer, restore_residual

__all__ = ["NETWORK_KINDS", "VEIL", "depixelate", "remove_veil", "restore_guarded"]

# kinds the residual network repairs (measured gains on held-out images), and those for which
# its tone stage runs; elsewhere the tone stage would follow the training set's colours
NETWORK_KINDS = ("noise", "gaussian_noise", "rain", "scratches", "cracks")
TONE_STAGE_FOR = {"rain", "scratches", "cracks"}


# unsharp masking for Gaussian blur (sigma, amount): +1.5 dB at severity 0.5 on held-out 256-px
# crops (+2.0 at 0.2, +0.6 at 1.0); it does not help motion or zoom blur
SHARPEN = (2.0, 1.5)

# the colour of a yellowed-varnish veil (the damage generator's fade; real veils vary by a few
# per cent) and the share of darkest pixels taken as the image's own black
VEIL = np.array([235.0, 225.0, 190.0], np.float32)
BLACK_SHARE = 0.002


def remove_veil(image: np.ndarray, veil: np.ndarray = VEIL) -> tuple[np.ndarray, float]:
    """Undo a pale veil ``y = (1 − a)·x + a·veil``: ``a`` from the darkest pixels (the image's
    own black lifted towards the veil), then ``x = (y − a·veil) / (1 − a)``. Returns the image and
    ``a`` (0 leaves it unchanged)."""
    y = image.astype(np.float32)
    black = np.quantile(y.reshape(-1, 3), BLACK_SHARE, axis=0)
    a = float(np.clip(np.min(black / veil), 0.0, 0.9))
    if a <= 0:
        return image, 0.0
    out = (y - a * veil) / (1 - a)
    return np.clip(out, 0, 255).round().astype(np.uint8), a


def depixelate(image: np.ndarray) -> np.ndarray:
    """``image`` (``uint8 [H, W, 3]``) with pixelation's blocks replaced by a bicubic surface
    through the blocks' centres (blocks of unequal sizes allowed)."""
    grid = block_grid(image)
    h, w = image.shape[:2]
    xs = np.concatenate([[-1], grid.xs, [w - 1]])  # block k spans xs[k] + 1 .. xs[k + 1]
    ys = np.concatenate([[-1], grid.ys, [h - 1]])
    cx, cy = (xs[:-1] + xs[1:] + 1) / 2, (ys[:-1] + ys[1:] + 1) / 2  # centres
    small = image[np.clip(cy.astype(int), 0, h - 1)][:, np.clip(cx.astype(int), 0, w - 1)]
    # every pixel's fractional position among the block centres
    u = np.interp(np.arange(w), cx, np.arange(len(cx))).astype(np.float32)
    v = np.interp(np.arange(h), cy, np.arange(len(cy))).astype(np.float32)
    map_x, map_y = np.meshgrid(u, v)
    out = cv2.remap(
        small.astype(np.float32), map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    return np.clip(out, 0, 255).round().astype(np.uint8)


def restore_guarded(
    model: ResidualRestorer, detector: DamageDetector, image: np.ndarray
) -> tuple[np.ndarray, dict]:
    """``uint8 [H, W, 3]`` → (restored image, report). When no expert acts the output is a copy of
    the input, bit for bit."""
    found = detector.detect(image)
    report: dict = {"detected": {k: round(p, 3) for k, p in found.items()}, "experts": []}
    out = image
    if "pixelate" in found:
        out = depixelate(out)
        report["experts"].append({"expert": "depixelate", "kinds": ["pixelate"], "share": 1.0})
    if "fade" in found:
        out, strength = remove_veil(out)
        report["experts"].append(
            {"expert": "remove_veil", "kinds": ["fade"], "veil": round(strength, 3), "share": 1.0}
        )
    kinds = [k for k in NETWORK_KINDS if k in found]
    if kinds:
        tone = not TONE_STAGE_FOR.isdisjoint(kinds)
        out = restore_residual(model, out, tone=tone)
        report["experts"].append({"expert": "network", "kinds": kinds, "tone": tone, "share": 1.0})
    if "blur" in found:  # after the network: sharpening comes last, so noise is not sharpened
        out = unsharp(out, *SHARPEN)
        report["experts"].append(
            {"expert": "unsharp", "kinds": ["blur"], "sigma": SHARPEN[0], "amount": SHARPEN[1]}
        )
    report["unrepaired"] = sorted(set(found) - {"pixelate", "fade", "blur", *kinds})
    return (out.copy() if out is image else out), report
