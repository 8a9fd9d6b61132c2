"""``art-restore restore``: damaged photographs in, restored PNGs out."""

from __future__ import annotations

import argparse

from affine_sr.cli.upscale import add_batch_arguments
from art_restore.cli.common import COMMON, MODEL, SAMPLING, sampling_options

EPILOG = """\
Outputs are PNG files named like the inputs (a folder's structure is kept); finished outputs are
kept when the same command runs again, so an interrupted batch resumes; a rerun with another
--model or options into the same --out is refused unless --overwrite (which redoes every output).

examples:
  art-restore restore scans/ --out restored/
  art-restore restore scans/ --out restored/ --explain   # + what was found and done, per image
  art-restore restore mural.jpg --out restored/ --model superres --steps 4   # diffusion
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
    add_batch_arguments(parser)
    parser.add_argument(
        "--explain",
        action="store_true",
        help="also write NAME.json beside each output: the kinds of damage found (with their "
        "probabilities), the experts that ran and their estimates, those declined and why, "
        "the kinds left unrepaired",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from affine_sr.cli.upscale import run_batch
    from app_toolkit.devices import resolve_device
    from app_toolkit.manifest import module_fingerprint
    from art_restore.restorer import load_restorer, restore_image

    options = sampling_options(args)
    model = load_restorer(args.model, str(resolve_device(args.device)), not args.no_detector)

    if args.explain and getattr(model, "detector", None) is None:
        raise ValueError("--explain needs a restorer with a damage detector (the default)")

    def restore(image):
        if args.explain:
            from art_restore.experts import restore_guarded

            return restore_guarded(model, model.detector, image)
        return restore_image(model, image, args.seed, **options)

    # the run's settings, recorded in the output folder: a rerun with other ones is refused (the
    # network's weights are part of them already; the detector, which routes images to experts,
    # by its own fingerprint, the experts' rules by theirs, and so the water-stain model)
    from art_restore.experts import rules_fingerprint

    detector = getattr(model, "detector", None)
    stains = getattr(model, "stains", None)
    settings = {
        **options,
        "detector": detector.fingerprint() if detector is not None else None,
        "rules": rules_fingerprint() if detector is not None else None,
        "stains": module_fingerprint(stains) if stains is not None else None,
        "explain": args.explain,
    }
    return run_batch(model, args, settings, scale=1, desc="restore", process=restore)
