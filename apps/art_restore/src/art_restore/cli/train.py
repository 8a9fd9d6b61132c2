"""``art-restore train``: fine-tune the restorer on clean artworks with random mixed damage."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from app_toolkit.cli import add_device_option
from app_toolkit.devices import resolve_device
from art_restore.cli.common import COMMON

log = logging.getLogger("art_restore")

EPILOG = """\
outputs in OUT:
  autoencoder/   stage 1 (with --ae-steps): the coupling autoencoder fine-tuned at scale 1
  model/         stage 2: the restorer, for `restore --model OUT/model` and `evaluate`

examples:
  art-restore train paintings/ --out run/
  art-restore train --artworks 300 --out run/ --prior-steps 3000
  art-restore train paintings/ --out run/ --resume
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "train",
        parents=[COMMON],
        help="fine-tune the restorer on mixed damage",
        description="Start from the super-resolution model (or --init), make its prior generate "
        "the whole code (fine detail too) and fine-tune it at scale 1 on crops of clean "
        "artworks, each damaged by a random mix of 1 to --max-kinds kinds at random severities "
        "(--clean of them left undamaged), under accelerate.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("inputs", nargs="*", metavar="IN", help="clean artworks or folders")
    parser.add_argument("--out", required=True, metavar="DIR", help="run folder")
    parser.add_argument(
        "--artworks",
        type=int,
        default=0,
        metavar="N",
        help="add the built-in training artworks (stylised sample photographs, held-out ones "
        "excluded) and N procedural brush paintings",
    )
    parser.add_argument(
        "--init",
        default="superres",
        help="model to start from: `superres` (the shipped ×4 model) or a model folder "
        "(default: %(default)s)",
    )
    parser.add_argument("--crop", type=int, default=128, help="(default: %(default)s)")
    parser.add_argument(
        "--ae-steps",
        type=int,
        default=0,
        help="steps fine-tuning the autoencoder first (a full-code restorer needs none; "
        "default: %(default)s)",
    )
    parser.add_argument("--prior-steps", type=int, default=1500, help="(default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=8, help="(default: %(default)s)")
    parser.add_argument(
        "--max-kinds",
        type=int,
        default=3,
        help="each crop gets 1 to this many kinds of damage (default: %(default)s)",
    )
    parser.add_argument(
        "--clean",
        type=float,
        default=0.1,
        help="share of crops left undamaged (default: %(default)s)",
    )
    parser.add_argument(
        "--pixel-weight",
        type=float,
        default=30.0,
        help="weight of the pixel MSE of the clean estimate beside the diffusion loss "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--last-step-share",
        type=float,
        default=0.5,
        help="share of training draws at the last timestep, the one 1-step sampling uses "
        "(default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    parser.add_argument("--save-every", type=int, default=250, help="checkpoint interval")
    parser.add_argument("--resume", action="store_true", help="continue from OUT's state")
    add_device_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from affine_sr.train import check_new_run
    from app_toolkit.files import check_output_dir
    from art_restore.artworks import artworks
    from art_restore.cli.degrade import clean_images
    from art_restore.degrade import DEGRADATIONS
    from art_restore.restorer import damaged_crops, finetune, load_restorer

    check_new_run(args.out, args.resume)
    check_output_dir(args.out, args.inputs)
    images = []
    if args.artworks or not args.inputs:
        images += list(artworks(held_out=False, paintings=args.artworks, seed=args.seed).values())
    if args.inputs:
        images += list(clean_images(args.inputs, False).values())
    torch.manual_seed(args.seed)
    device = str(resolve_device(args.device))
    if not 1 <= args.max_kinds <= len(DEGRADATIONS) or not 0 <= args.clean < 1:
        raise ValueError(
            f"--max-kinds must be in 1..{len(DEGRADATIONS)} and --clean in [0, 1), "
            f"got {args.max_kinds} and {args.clean}"
        )
    dataset = damaged_crops(
        images, args.crop, args.clean, args.batch_size * 50, args.seed, args.max_kinds
    )
    log.info("%d clean images, crops of %d px", len(dataset.images), args.crop)
    model = load_restorer(args.init, device)
    finetune(
        model,
        dataset,
        Path(args.out),
        args.ae_steps,
        args.prior_steps,
        args.batch_size,
        device,
        args.save_every,
        args.resume,
        not args.quiet,
        args.pixel_weight,
        args.last_step_share,
    )
    print(f"restorer -> {Path(args.out) / 'model'}")
    return 0
