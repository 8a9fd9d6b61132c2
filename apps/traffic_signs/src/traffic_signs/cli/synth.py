"""``traffic-signs synth``: procedural road scenes, as a YOLO dataset and a missing-sign set."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from traffic_signs.cli.common import COMMON

log = logging.getLogger("traffic_signs")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "synth",
        parents=[COMMON],
        help="procedural road scenes for training and tests",
        description="Write DIR/detect (a YOLO dataset: data.yaml, images/, labels/; 8 sign "
        "classes) and DIR/missing (train/val/test/<category>/: scenes whose context sign is "
        "missing, drawn without it or inpainted away). Roads bend left or right, are divided "
        "with a gap in the median, have a side road on the left, or are straight; light, fog, "
        "rain, blur and occlusion vary.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("out", metavar="DIR", help="output folder")
    parser.add_argument("--train", type=int, default=400, help="detection train scenes")
    parser.add_argument("--val", type=int, default=100, help="detection val scenes")
    parser.add_argument(
        "--per-class", type=int, default=100, help="missing-sign train scenes per category"
    )
    parser.add_argument(
        "--video",
        type=int,
        default=0,
        metavar="SECONDS",
        help="also write DIR/drive.mp4 (10 frames/s, one scene a second, the context sign "
        "missing in every other scene) and DIR/drive_truth.json",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from traffic_signs.synth import write_detection_set, write_missing_set

    if min(args.train, args.val, args.per_class) < 1:
        raise ValueError("--train, --val and --per-class must be >= 1")
    out = Path(args.out)
    yaml = write_detection_set(out / "detect", args.train, args.val, seed=args.seed)
    n = args.per_class
    write_missing_set(
        out / "missing", seed=args.seed, per_split=(n, max(1, n // 4), max(1, n // 4))
    )
    if args.video:
        from app_toolkit.files import write_json
        from traffic_signs.synth import write_drive

        truth = write_drive(out / "drive.mp4", args.video, seed=args.seed)
        write_json(out / "drive_truth.json", truth)
        log.info("Video: %s", out / "drive.mp4")
    log.info("YOLO dataset: %s", yaml)
    log.info("Missing-sign set: %s (train/val/test)", out / "missing")
    return 0
