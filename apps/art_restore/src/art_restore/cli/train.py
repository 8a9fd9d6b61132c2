"""``art-restore train``: train the residual restorer on clean artworks with random mixed damage."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from app_toolkit.cli import add_device_option
from art_restore.cli.common import COMMON

log = logging.getLogger("art_restore")

EPILOG = """\
outputs in OUT:
  model/              the restorer, for `restore --model OUT/model` and `evaluate`
  training_state.pt   optimiser state, for --resume (Ctrl-C writes it too)
  log.csv             loss per step

examples:
  art-restore train paintings/ --out run/
  art-restore train --artworks 100 --out run/ --steps 3000
  art-restore train paintings/ --out run/ --resume
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "train",
        parents=[COMMON],
        help="train the restorer on mixed damage",
        description="Train the residual restorer (a U-Net that returns its input plus a "
        "correction, gated by a predicted damage map) on patches of clean artworks, each "
        "damaged on the fly by a random mix of 1 to --max-kinds kinds at random severities "
        "(--clean of them left undamaged).",
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
    parser.add_argument("--init", metavar="DIR", help="start from this model folder")
    parser.add_argument("--steps", type=int, default=2000, help="(default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=16, help="(default: %(default)s)")
    parser.add_argument("--crop", type=int, default=64, help="patch side (default: %(default)s)")
    parser.add_argument(
        "--lr", type=float, default=5e-4, help="peak learning rate (default: %(default)s)"
    )
    parser.add_argument(
        "--max-kinds",
        type=int,
        default=3,
        help="each patch gets 1 to this many kinds of damage (default: %(default)s)",
    )
    parser.add_argument(
        "--clean",
        type=float,
        default=0.2,
        help="share of patches left undamaged (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    parser.add_argument("--save-every", type=int, default=250, help="checkpoint interval")
    parser.add_argument("--resume", action="store_true", help="continue from OUT's state")
    add_device_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from affine_sr.train import check_new_run
    from app_toolkit.devices import resolve_device
    from app_toolkit.files import check_output_dir
    from art_restore.artworks import artworks
    from art_restore.cli.degrade import clean_images
    from art_restore.degrade import DEGRADATIONS
    from art_restore.residual import ResidualRestorer
    from art_restore.training import DamagedPatches, train_restorer

    check_new_run(args.out, args.resume)
    check_output_dir(args.out, args.inputs)
    if not args.lr > 0:
        raise ValueError(f"--lr must be > 0, got {args.lr}")
    if not 1 <= args.max_kinds <= len(DEGRADATIONS) or not 0 <= args.clean < 1:
        raise ValueError(
            f"--max-kinds must be in 1..{len(DEGRADATIONS)} and --clean in [0, 1), "
            f"got {args.max_kinds} and {args.clean}"
        )
    images = []
    if args.artworks or not args.inputs:
        images += list(artworks(held_out=False, paintings=args.artworks, seed=args.seed).values())
    if args.inputs:
        images += list(clean_images(args.inputs, False, min_side=args.crop).values())
    torch.manual_seed(args.seed)
    device = str(resolve_device(args.device))
    dataset = DamagedPatches(
        images, args.crop, max(args.crop, 192), args.clean, args.max_kinds, seed=args.seed
    )
    log.info("%d clean images, patches of %d px", len(images), args.crop)
    model = ResidualRestorer.load(args.init, device) if args.init else ResidualRestorer()
    train_restorer(
        model,
        dataset,
        args.out,
        args.steps,
        args.batch_size,
        args.lr,
        device=device,
        save_every=args.save_every,
        resume=args.resume,
        progress=not args.quiet,
    )
    print(f"restorer -> {Path(args.out) / 'model'}")
    return 0
