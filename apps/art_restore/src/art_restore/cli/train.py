"""``art-restore train``: fine-tune the restorer on clean artworks with random mixed damage."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from art_restore.cli.common import COMMON
from core_flows.utils import resolve_device

log = logging.getLogger("art_restore")

EPILOG = """\
outputs in OUT:
  autoencoder/   stage 1: the coupling autoencoder fine-tuned at scale 1
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
        description="Start from the super-resolution model (or --init) and fine-tune it at scale "
        "1 on crops of clean artworks, each damaged by a random mix of 1 to 3 kinds at random "
        "severities (10%% left clean), under accelerate.",
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
    parser.add_argument("--ae-steps", type=int, default=300, help="(default: %(default)s)")
    parser.add_argument("--prior-steps", type=int, default=1500, help="(default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=8, help="(default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    parser.add_argument("--save-every", type=int, default=250, help="checkpoint interval")
    parser.add_argument("--resume", action="store_true", help="continue from OUT's state")
    parser.add_argument(
        "--device", default="auto", help="auto, cpu, cuda or cuda:N (default: %(default)s)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from art_restore.artworks import artworks
    from art_restore.cli.degrade import clean_images
    from art_restore.restorer import damaged_crops, finetune, load_restorer

    images = []
    if args.artworks or not args.inputs:
        images += list(artworks(held_out=False, paintings=args.artworks, seed=args.seed).values())
    if args.inputs:
        images += list(clean_images(args.inputs, False).values())
    torch.manual_seed(args.seed)
    device = str(resolve_device(args.device))
    dataset = damaged_crops(images, args.crop, length=args.batch_size * 50, seed=args.seed)
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
    )
    print(f"restorer -> {Path(args.out) / 'model'}")
    return 0
