"""``anonymize synth``: synthetic street scenes with known faces and plates."""

from __future__ import annotations

import argparse
import logging

from anonymizer.cli.bench import _size
from anonymizer.cli.common import COMMON

log = logging.getLogger("anonymizer")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "synth",
        parents=[COMMON],
        help="write synthetic street scenes with known faces and plates",
        description="Write synthetic street scenes (drawn cars with rendered plates, pedestrians "
        "with a real face photograph from scikit-image) and truth.json with their boxes, to try "
        "the tool and measure detection without a dataset.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("out", metavar="DIR", help="output folder")
    parser.add_argument("--count", type=int, default=4, help="number of images")
    parser.add_argument("--video-frames", type=int, default=0, help="also write a clip of N frames")
    parser.add_argument("--size", type=_size, default=(1920, 1080), help="WIDTHxHEIGHT")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from anonymizer.synth import write_demo_set

    truth = write_demo_set(args.out, args.count, args.seed, args.size, args.video_frames)
    log.info("Wrote %d files; results saved to %s", len(truth), args.out)
    return 0
