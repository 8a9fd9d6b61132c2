"""``art-restore restore``: damaged photographs in, restored PNGs out."""

from __future__ import annotations

import argparse
import logging

from art_restore.cli.common import COMMON, MODEL, SAMPLING, sampling_options
from core_flows.utils import resolve_device

log = logging.getLogger("art_restore")

EPILOG = """\
Outputs are PNG files named like the inputs (a folder's structure is kept); finished outputs are
kept when the command runs again, so an interrupted batch resumes (--overwrite redoes them).

examples:
  art-restore restore scans/ --out restored/
  art-restore restore mural.jpg --out restored/ --steps 4   # more generated detail
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "restore",
        parents=[COMMON, MODEL, SAMPLING],
        help="restore images and folders",
        description="Restore every image in IN (files, folders searched recursively, globs) with "
        "one model for all kinds of damage, tile by tile so any size fits in memory.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("inputs", nargs="+", metavar="IN", help="images or folders")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument("--overwrite", action="store_true", help="redo existing outputs")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from affine_sr.pipeline import upscale_files
    from art_restore.restorer import load_restorer

    options = sampling_options(args)
    model = load_restorer(args.model, str(resolve_device(args.device)))
    report = upscale_files(
        model,
        args.inputs,
        args.out,
        overwrite=args.overwrite,
        progress=not args.quiet,
        scale=1,
        seed=args.seed,
        **options,
    )
    print(
        f"{len(report['written'])} written, {len(report['skipped'])} already done, "
        f"{len(report['failed'])} unreadable or not images -> {args.out}"
    )
    for path in report["failed"]:
        log.warning("  not restored: %s", path)
    return 0
