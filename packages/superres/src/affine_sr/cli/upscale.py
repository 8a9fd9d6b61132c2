"""``affine-sr upscale``: images and folders in, upscaled PNGs out."""

from __future__ import annotations

import argparse
import logging

from affine_sr.cli.common import (
    COMMON,
    DEVICE,
    SAMPLING,
    add_degradation_argument,
    sampling_options,
)

log = logging.getLogger("affine_sr")

EPILOG = """\
Outputs are PNG files named like the inputs (a folder's structure is kept). Finished outputs are
kept when the same command runs again, so an interrupted batch resumes; a rerun with another
--model or options into the same --out is refused unless --overwrite (which redoes every output).

examples:
  affine-sr upscale photo.jpg --out big/                        # a JPEG: deblocked first
  affine-sr upscale photo.jpg --out big/ --degradation clean    # as it decodes
  affine-sr upscale scans/ --out big/ --steps 1                 # smoothest, most faithful
  affine-sr upscale scans/ --out big/ --steps 20 --fidelity 0.5 # more generated detail
  affine-sr upscale huge.png --out big/ --tile 48 --device cuda
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "upscale",
        parents=[COMMON, DEVICE, SAMPLING],
        help="upscale images and folders",
        description="Upscale every image in IN (files, folders searched recursively, globs) by "
        "--scale with the diffusion model, tile by tile, so any size fits in memory.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_batch_arguments(parser)
    add_degradation_argument(parser)
    parser.set_defaults(run=run)


def add_batch_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="IN", help="images or folders")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="redo every output, also when --out holds a run with another model or options",
    )


def run(args: argparse.Namespace) -> int:
    from affine_sr.checkpoint import load_model
    from app_toolkit.devices import resolve_device

    options = sampling_options(args)
    model = load_model(args.model, str(resolve_device(args.device)), args.prior)
    return run_batch(model, args, {**options, "degradation": args.degradation}, args.scale)


def run_batch(
    model, args: argparse.Namespace, options: dict, scale: int, desc: str = "upscale", process=None
) -> int:
    """The batch job of `upscale` (and of art-restore's `restore`, at scale 1, whose
    ``process`` restores one image), with its report; exit code 1 when no input could be
    processed."""
    from affine_sr.pipeline import upscale_files

    report = upscale_files(
        model,
        args.inputs,
        args.out,
        overwrite=args.overwrite,
        progress=not args.quiet,
        desc=desc,
        process=process,
        scale=scale,
        seed=args.seed,
        **options,
    )
    print(
        f"{len(report['written'])} written, {len(report['skipped'])} already done, "
        f"{len(report['failed'])} unreadable or not images -> {args.out}"
    )
    for path in report["failed"]:
        log.warning("  left out: %s", path)
    if not report["written"] and not report["skipped"]:
        raise RuntimeError(f"none of the {len(report['failed'])} inputs could be read")
    return 0
