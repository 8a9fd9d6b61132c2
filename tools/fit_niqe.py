"""Fit NIQE's pristine model (``affine_sr/niqe_pristine.json``) on photographs available offline.

The pristine set is the natural photographs among the scikit-image and scikit-learn sample
images that no affine-sr evaluation uses (the held-out and registry photographs are left out),
at their own resolution and at 3/4 of it (NIQE's statistics depend on scale; the original model
was fitted on 125 photographs, this one on what is at hand: docs/benchmarks.md says how many
patches). Any folder of pristine photographs can be given instead:

    .venv/bin/python tools/fit_niqe.py                 # the shipped model
    .venv/bin/python tools/fit_niqe.py PHOTOS/ --out my_niqe.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2

from affine_sr.data import HELD_OUT, REGISTRY_PHOTOS, sample_images
from affine_sr.niqe import PATCH, fit_pristine

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "packages" / "superres" / "src" / "affine_sr" / "niqe_pristine.json"
# photographs of natural scenes among the sample images (the others are microscopy, text,
# astronomy, drawings, synthetic, or blurred on purpose as "clock")
PRISTINE = ("astronaut", "rocket", "china", "coins", "brick", "grass", "gravel")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("photos", nargs="*", help="pristine photographs or folders")
    parser.add_argument("--out", type=Path, default=TARGET)
    args = parser.parse_args()
    if args.photos:
        from app_toolkit.media import read_images

        photos = read_images(args.photos, min_side=PATCH)  # smaller ones are named and skipped
        names, images = list(photos), list(photos.values())
    else:
        held = set(HELD_OUT) | set(REGISTRY_PHOTOS)
        names = [n for n in PRISTINE if n not in held]
        images = [sample_images()[n] for n in names]
    scaled = [cv2.resize(im, None, fx=0.75, fy=0.75, interpolation=cv2.INTER_AREA) for im in images]
    try:
        model = fit_pristine(images + [im for im in scaled if min(im.shape[:2]) >= PATCH])
    except ValueError as err:
        sys.exit(str(err))
    model["photographs"] = names
    args.out.write_text(json.dumps(model))
    print(f"{model['patches']} sharp patches of {len(images)} photographs -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
