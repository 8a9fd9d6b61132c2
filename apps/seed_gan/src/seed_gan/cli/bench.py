"""``seed-gan bench``: classifier quality with and without GAN augmentation."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from app_toolkit.files import write_json
from seed_gan.cli.common import COMMON, DEVICE
from seed_gan.options import RECIPES

log = logging.getLogger("seed_gan")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "bench",
        parents=[COMMON, DEVICE],
        help="macro-F1 and rare-class recall with and without GAN augmentation",
        description="Train the same classifier for the same number of steps on: the real train "
        "split; the same with a class-weighted loss; with colour jitter and mixup; plus generated "
        "images for the rare classes (kept when a classifier trained on the real images agrees "
        "with their class), also class-weighted; generated images only. Test each on the real "
        "test split (medians and spreads over --seeds). The GAN must not have seen the test split "
        "(`gan train` uses the train split), nor, with --rare-count, the rare images left out.",
        epilog="The default GAN is the shipped one, trained on the train split of\n"
        "`seed-gan synth DATA --total 2000 --size 64 --seed 0`: use that DATA with it.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("data", metavar="DATA", help="image folder, one subfolder per class")
    parser.add_argument(
        "--gan", default="default", help="`gan train` output folder (default: %(default)s)"
    )
    parser.add_argument("--arch", default="shufflenet_v2_x0_5", help="(default: %(default)s)")
    parser.add_argument("--steps", type=int, default=600, help="(default: %(default)s)")
    parser.add_argument("--lr", type=float, default=3e-3, help="(default: %(default)s)")
    parser.add_argument("--seeds", type=int, default=3, help="(default: %(default)s)")
    parser.add_argument(
        "--augment", type=int, help="generated images to add (default: enough to level classes)"
    )
    parser.add_argument(
        "--recipes",
        default=",".join(RECIPES),
        help=f"comma-separated, of {', '.join(RECIPES)} (default: all)",
    )
    parser.add_argument(
        "--rare-count",
        type=int,
        metavar="N",
        help="keep only N real training images of each rare class (fewer than half the largest "
        "class's); train the --gan with `gan train --rare-count N` on the same DATA",
    )
    parser.add_argument(
        "--min-confidence",
        type=float,
        default=0.9,
        help="generated images are kept when a classifier trained on the real images gives them "
        "their class at least this probability (default: %(default)s)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the result as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app_toolkit.devices import resolve_device
    from seed_gan.bench import bench, format_bench
    from seed_gan.gan import load_generator

    device = resolve_device(args.device)
    result = bench(
        args.data,
        load_generator(args.gan, str(device)),
        arch=args.arch,
        steps=args.steps,
        lr=args.lr,
        seeds=args.seeds,
        augment=args.augment,
        recipes=tuple(r.strip() for r in args.recipes.split(",") if r.strip()),
        rare_count=args.rare_count,
        min_confidence=args.min_confidence,
        device=device.type,
        progress=not args.quiet,
    )
    print(format_bench(result))
    if args.json:
        write_json(Path(args.json), result)
        log.info("Results saved to %s", args.json)
    return 0
