"""How affine-sr's input cleaning was set (``affine_sr.deblock.STRENGTH`` and ``DENOISE``).

On the ×4 reductions of the training photographs (the sample images the shipped model trained on,
at least 128 px a side reduced; the held-out ones excluded), the shipped model's PSNR-Y gain over
upscaling the degraded input as it is:

- ``deblock``: the reductions saved as JPEG at qualities 30, 50, 70, 90 and 95, deblocked with
  the table of their quality at several filter strengths (shares of the table's DC step);
- ``denoise``: the reductions under the Real-ESRGAN second-order degradation (and, for the cost,
  plain ones), denoised at several strengths (multiples of the measured noise level), with and
  without deblocking as if saved at quality 75 (what ``--degradation real`` does); here the gain
  is over bicubic upscaling.

About two minutes each on two CPU cores:

    .venv/bin/python tools/tune_sr_cleanup.py deblock
    .venv/bin/python tools/tune_sr_cleanup.py denoise
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from affine_sr import deblock as cleaning
from affine_sr.checkpoint import load_model
from affine_sr.constants import REAL_QUALITY
from affine_sr.data import HELD_OUT, REGISTRY_PHOTOS, sample_images
from affine_sr.degradations import bicubic_upscale, jpeg
from affine_sr.evaluate import low_resolution, scores
from affine_sr.pipeline import upscale_image

SCALE = 4


def training_pairs(min_side: int = 32 * SCALE):
    held = set(HELD_OUT) | set(REGISTRY_PHOTOS)
    for name, image in sample_images().items():
        h, w = (s - s % SCALE for s in image.shape[:2])
        if name not in held and min(h, w) >= min_side:
            yield name, image[:h, :w]


def gain(model, lr, hr, **options) -> float:
    return scores(upscale_image(model, lr, SCALE, **options), hr, SCALE)["psnr_y"]


def sweep_deblock(model) -> None:
    gains = {}
    for name, hr in training_pairs():
        clean = low_resolution(hr, SCALE, "bicubic", np.random.default_rng(0))
        for quality in (30, 50, 70, 90, 95):
            lr = jpeg(clean, quality)
            base = gain(model, lr, hr)
            for strength in (0.6, 0.8, 1.0, 1.3):
                cleaning.STRENGTH = strength
                table = cleaning.ijg_table(quality)
                gains.setdefault((quality, strength), []).append(
                    gain(model, lr, hr, jpeg_table=table) - base
                )
        print(name, flush=True)
    for (quality, strength), values in sorted(gains.items()):
        print(f"quality {quality}, strength {strength}: mean {np.mean(values):+.3f} dB, "
              f"worst {min(values):+.2f} ({len(values)} photographs)")  # fmt: skip


def sweep_denoise(model) -> None:
    gains = {}
    for k, (name, hr) in enumerate(training_pairs()):
        for kind in ("realesrgan", "bicubic"):
            lr = low_resolution(hr, SCALE, kind, np.random.default_rng((0, k)))
            base = scores(bicubic_upscale(lr, SCALE), hr, SCALE)["psnr_y"]
            for strength in (0, 0.5, 1.0, 1.5, 2.0):
                cleaning.DENOISE = strength
                for table in (None, cleaning.ijg_table(REAL_QUALITY)):
                    options = {"clean_noise": strength > 0, "jpeg_table": table}
                    key = (kind, strength, table is not None)
                    gains.setdefault(key, []).append(gain(model, lr, hr, **options) - base)
        print(name, flush=True)
    for (kind, strength, deblocked), values in sorted(gains.items()):
        print(f"{kind} inputs, denoising {strength}×, {'deblocked' if deblocked else 'not deblocked'}:"
              f" {np.mean(values):+.3f} dB over bicubic, worst {min(values):+.2f}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sweep", choices=("deblock", "denoise"))
    args = parser.parse_args()
    model = load_model("default")
    (sweep_deblock if args.sweep == "deblock" else sweep_denoise)(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
