"""``art-restore degrade``: paired datasets (clean, damaged) for training and benchmarks."""

from __future__ import annotations

import argparse
from pathlib import Path

from art_restore.cli.common import COMMON, kinds

EPILOG = """\
outputs in DIR:
  clean/<name>.png            the inputs as PNG
  <kind>/<name>.png           one folder per kind of damage (default), or
  mixed/<name>_<k>.png        with --mix N: N random mixes of 1 to 3 kinds per image
  manifest.csv                damaged file, clean file, the damage applied (kind:severity, in order)

examples:
  art-restore degrade paintings/ --out pairs/ --severity 0.7
  art-restore degrade paintings/ --out pairs/ --mix 4 --seed 1
  art-restore degrade --artworks --out pairs/ --kinds rain,cracks
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "degrade",
        parents=[COMMON],
        help="write paired (clean, damaged) datasets",
        description="Damage every input image with each kind (or with random mixes), seeded, "
        "and write the pairs with a manifest.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("inputs", nargs="*", metavar="IN", help="clean images or folders")
    parser.add_argument(
        "--artworks",
        action="store_true",
        help="add the built-in held-out artworks (stylised sample photographs)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--kinds", default="all", help="all, or a comma-separated list (default: %(default)s)"
    )
    parser.add_argument(
        "--severity", type=float, default=0.5, help="0 < s <= 1 (default: %(default)s)"
    )
    parser.add_argument("--mix", type=int, default=0, metavar="N", help="random mixes per image")
    parser.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    parser.set_defaults(run=run)


def clean_images(inputs: list[str], builtin: bool, min_side: int = 16) -> dict:
    """Name → image for the inputs (and the built-in held-out artworks); images with a side
    under ``min_side`` pixels are skipped by name."""
    from app_toolkit.media import read_images
    from art_restore.artworks import artworks

    images = artworks(held_out=True) if builtin else {}
    if inputs:
        images.update(read_images(inputs, min_side))
    if not images:
        raise ValueError("no images: give clean images or folders, or --artworks")
    return images


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from app_toolkit.files import check_output_dir, write_csv
    from app_toolkit.media import write_image
    from art_restore.degrade import apply, compose, random_recipe

    chosen = kinds(args.kinds)
    if not 0 < args.severity <= 1:
        raise ValueError(f"--severity must be in (0, 1], got {args.severity}")
    out = check_output_dir(args.out, args.inputs)
    rows = []
    for i, (name, image) in enumerate(clean_images(args.inputs, args.artworks).items()):
        clean = write_image(out / "clean" / f"{name}.png", image)
        if args.mix:
            for k in range(args.mix):
                rng = np.random.default_rng((args.seed, i, k))
                recipe = random_recipe(rng, kinds=chosen)
                path = write_image(out / "mixed" / f"{name}_{k}.png", compose(image, recipe, rng))
                rows.append([path, clean, " ".join(f"{n}:{s:.2f}" for n, s in recipe)])
        else:
            for j, kind in enumerate(chosen):
                damaged = apply(
                    image, kind, args.severity, np.random.default_rng((args.seed, i, j))
                )
                path = write_image(out / kind / f"{name}.png", damaged)
                rows.append([path, clean, f"{kind}:{args.severity:.2f}"])
    rel = [[str(Path(p).relative_to(out)), str(Path(c).relative_to(out)), r] for p, c, r in rows]
    write_csv(out / "manifest.csv", ["damaged", "clean", "damage"], rel)
    print(f"{len(rows)} damaged images -> {out} (manifest.csv)")
    return 0
