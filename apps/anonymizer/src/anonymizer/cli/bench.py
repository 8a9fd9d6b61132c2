"""``anonymize bench``: images per second at full HD on this device, per stage."""

from __future__ import annotations

import argparse
import logging

from anonymizer.cli.common import COMMON, DETECTION, REPLACEMENT, SD, anonymizer_config
from app_toolkit.files import write_json

log = logging.getLogger("anonymizer")


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be WIDTHxHEIGHT, got {text!r}") from None
    return width, height


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "bench",
        parents=[COMMON, DETECTION, REPLACEMENT, SD],
        help="images per second at 1920×1080, per stage",
        description="Time the whole job (JPEG decode, each detector, box post-processing, "
        "replacement, JPEG encode) on synthetic street scenes; prints median ms per stage and "
        "images per second.",
    )
    parser.add_argument("--frames", type=int, default=5, help="timed frames (default: %(default)s)")
    parser.add_argument(
        "--warmup", type=int, default=1, help="untimed frames first (default: %(default)s)"
    )
    parser.add_argument(
        "--size", type=_size, default=(1920, 1080), help="WIDTHxHEIGHT (default: 1920x1080)"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the result as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from anonymizer.bench import bench, format_bench

    result = bench(anonymizer_config(args), frames=args.frames, warmup=args.warmup, size=args.size)
    print(format_bench(result))
    if args.json:
        write_json(args.json, result)
        log.info("Results saved to %s", args.json)
    return 0
