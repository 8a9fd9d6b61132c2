"""How art_restore's zoom-blur expert was set (``art_restore.experts.deblur_zoom``, ``ZOOM_*``).

1. Strength: 256-px crops of the training images (two per image of at least 256 px, the
   held-out images excluded), zoom-blurred at severities 0.2, 0.5 and 1, each centre found from
   the image; the gain over the blurred crop for several fixed strengths.
2. The check (``ZOOM_ACCEPT``): on one crop per image, zoom-blurred or clean, dull, stained or
   Gaussian-blurred, how often the deblurring is kept, and what it gains where it is.
3. With ``--heldout``, the comparisons made on the held-out images themselves (so the
   radial-blur figures there are not fully independent of them): how far the centre estimate
   lands from the true centre, and the gain with 6 and 12 copies in the modelled blur.

About six minutes on two CPU cores:

    .venv/bin/python tools/tune_zoom_expert.py --heldout
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from train_damage_detector import retone, training_images

from affine_sr.data import heldout_images
from affine_sr.metrics import psnr
from art_restore.artworks import artworks
from art_restore.degrade import DEGRADATIONS, apply
from art_restore.detect import centre, zoom_blur_estimate
from art_restore.experts import ZOOM_ACCEPT, deblur_zoom

STRENGTHS = (0.015, 0.02, 0.025, 0.03, 0.04)
SEVERITIES = (0.2, 0.5, 1.0)


def grey(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float32) / 255 @ np.float32([0.299, 0.587, 0.114])


def crops(rng: np.random.Generator, per_image: int):
    for image in training_images(0).values():
        if min(image.shape[:2]) < 256:
            continue
        for _ in range(per_image):
            y, x = rng.integers(0, image.shape[0] - 255), rng.integers(0, image.shape[1] - 255)
            yield image[y : y + 256, x : x + 256]


def deblurred(image: np.ndarray, **options) -> tuple[np.ndarray, tuple[float, float]]:
    found = zoom_blur_estimate(grey(image))
    h, w = image.shape[:2]
    return deblur_zoom(image, found.cx * w, found.cy * h, **options), (found.cx, found.cy)


def strength_sweep() -> None:
    rng = np.random.default_rng(11)
    gains = {s: [] for s in SEVERITIES}
    for crop in crops(rng, 2):
        for severity in SEVERITIES:
            blurred = apply(crop, "radial_blur", severity, rng)
            base = psnr(blurred, crop, False)
            gains[severity].append(
                [psnr(deblurred(blurred, zoom=z)[0], crop, False) - base for z in STRENGTHS]
            )
    print(f"1. gain (dB) by strength {STRENGTHS}: median, 10th percentile, worst")
    for severity, g in gains.items():
        g = np.array(g)
        print(f"  severity {severity} ({len(g)} crops): {np.round(np.median(g, 0), 2)}, "
              f"{np.round(np.quantile(g, 0.1, 0), 2)}, {np.round(g.min(0), 2)}")  # fmt: skip


def check_rates() -> None:
    rng = np.random.default_rng(5)
    kept, gains = {}, {}
    for crop in crops(rng, 1):
        cases = {f"zoom {s}": (apply(crop, "radial_blur", s, rng), crop) for s in SEVERITIES}
        clean = retone(crop, rng, grey=0)  # the stream its figures were measured with
        cases["clean"] = (clean, clean)
        for kind in ("dull", "water_damage", "blur"):
            cases[kind] = (apply(crop, kind, float(rng.uniform(0.2, 1)), rng), crop)
        for name, (damaged, truth) in cases.items():
            out, (cx, cy) = deblurred(damaged)
            keep = zoom_blur_estimate(grey(out), (cx, cy)).score < ZOOM_ACCEPT
            kept.setdefault(name, []).append(keep)
            if name != "clean":
                gains.setdefault(name, []).append(
                    psnr(out, truth, False) - psnr(damaged, truth, False)
                )
    print(f"2. the check (detail across the rays afterwards < {ZOOM_ACCEPT}): share kept; "
          "median gain of the deblurring, kept or not")  # fmt: skip
    for name, k in kept.items():
        gain = f"{np.median(gains[name]):+.2f} dB" if name in gains else "-"
        print(f"  {name}: kept {np.mean(k):.2f} of {len(k)}; {gain}")


def heldout() -> None:
    kinds = list(DEGRADATIONS)
    sets = [
        artworks(held_out=True),
        {n: centre(im, 256) for n, im in sorted(heldout_images().items())},
    ]
    errors, gains = [], {6: [], 12: []}
    for images in sets:
        for i, image in enumerate(images.values()):
            # the same damage as `art-restore evaluate` draws (13 jobs per image, seed 0)
            rng = np.random.default_rng((0, i * (len(kinds) + 1) + kinds.index("radial_blur")))
            true = np.random.default_rng((0, i * (len(kinds) + 1) + kinds.index("radial_blur")))
            h, w = image.shape[:2]
            cx, cy = w * true.uniform(0.35, 0.65), h * true.uniform(0.35, 0.65)
            blurred = apply(image, "radial_blur", 0.5, rng)
            for copies in gains:
                out, (fx, fy) = deblurred(blurred, copies=copies)
                gains[copies].append(psnr(out, image, False) - psnr(blurred, image, False))
            errors.append(np.hypot(fx * w - cx, fy * h - cy) / max(h, w))
    print(f"3. held-out images at severity 0.5: centre error (share of the side) "
          f"{np.round(errors, 2)}, at most {max(errors):.2f}")  # fmt: skip
    for copies, g in gains.items():
        print(f"  {copies} copies: mean gain {np.mean(g):+.2f} dB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--heldout", action="store_true", help="also the held-out comparisons")
    args = parser.parse_args()
    strength_sweep()
    check_rates()
    if args.heldout:
        heldout()
    return 0


if __name__ == "__main__":
    sys.exit(main())
