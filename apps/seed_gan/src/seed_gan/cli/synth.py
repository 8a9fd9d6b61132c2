"""``seed-gan synth``: a synthetic corn-seed dataset with the published class mix."""

from __future__ import annotations

import argparse
import logging

from seed_gan.cli.common import COMMON

log = logging.getLogger("seed_gan")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "synth",
        parents=[COMMON],
        help="write a synthetic corn-seed dataset",
        description="Write DIR/<class>/<class>_NNNNN.png: drawn maize kernels on a dark tray in "
        "four classes (pure, broken, discolored, silkcut) with the published class mix "
        "(7266 : 5670 : 3115 : 1751). For trying the tools and comparing recipes; not a "
        "substitute for photographs of real lots.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("out", metavar="DIR", help="output folder")
    parser.add_argument("--total", type=int, default=2000, help="number of images")
    parser.add_argument("--size", type=int, default=64, help="image side in pixels")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from seed_gan.synth import write_dataset

    if args.size < 16:
        raise ValueError(f"--size must be at least 16, got {args.size}")
    counts = write_dataset(args.out, args.total, args.seed, args.size)
    log.info("Wrote %s", ", ".join(f"{n} {c}" for c, n in counts.items()))
    log.info("Results saved to %s", args.out)
    return 0
