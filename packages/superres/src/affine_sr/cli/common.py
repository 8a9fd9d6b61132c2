"""Options several subcommands take."""

import argparse

from affine_sr.constants import COLOR_FIXES, DEFAULTS, DEGRADATIONS, REAL_QUALITY
from app_toolkit.cli import COMMON, add_device_option

__all__ = ["COMMON", "DEVICE", "SAMPLING", "sampling_options", "sampling_parser"]

DEVICE = argparse.ArgumentParser(add_help=False)
add_device_option(DEVICE)
DEVICE.add_argument(
    "--model",
    default="default",
    help="model folder (`affine-sr train` output), or `default`: the shipped weights "
    "(default: %(default)s)",
)
DEVICE.add_argument(
    "--prior",
    metavar="PATH",
    help="local diffusers UNet folder the model was trained with, if it moved (kept frozen)",
)


def sampling_parser(defaults: dict, scale: bool = True) -> argparse.ArgumentParser:
    """The sampling options (a parent parser) with ``defaults`` (``steps``, ``fidelity``,
    ``color``, ``tile``, ``overlap``), so each tool states its own in one place."""
    parser = argparse.ArgumentParser(add_help=False)
    if scale:
        parser.add_argument(
            "--scale",
            type=int,
            default=4,
            help="upscaling factor; models work best at the factor they were trained for (the "
            "shipped one: 4) (default: %(default)s)",
        )
    parser.add_argument(
        "--steps",
        type=int,
        default=defaults["steps"],
        help="denoising steps: 1 gives the regression estimate (smoothest, most faithful), more "
        "add generated detail (default: %(default)s)",
    )
    parser.add_argument(
        "--fidelity",
        type=float,
        default=defaults["fidelity"],
        help="0..1: how much of the input's own fine detail is kept; 0 leaves all of it to "
        "the model (default: %(default)s)",
    )
    parser.add_argument(
        "--color-fix",
        choices=COLOR_FIXES,
        default=defaults["color"],
        help="take colours from the (upscaled) input (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="noise seed (default: %(default)s)")
    parser.add_argument(
        "--tile",
        type=int,
        default=defaults["tile"],
        help="tile side in input pixels, bounds memory; 0 for no tiling (default: %(default)s)",
    )
    parser.add_argument(
        "--overlap",
        type=int,
        default=defaults["overlap"],
        help="tile overlap in input pixels, blended (default: %(default)s)",
    )
    return parser


SAMPLING = sampling_parser(DEFAULTS)


def sampling_options(args: argparse.Namespace) -> dict:
    """The keyword arguments of :func:`affine_sr.pipeline.upscale_image` (``scale`` apart)."""
    if not 0 <= args.fidelity <= 1:
        raise ValueError(f"--fidelity must be in [0, 1], got {args.fidelity}")
    if args.steps < 1 or args.tile < 0 or args.overlap < 0:
        raise ValueError("--steps must be >= 1, --tile and --overlap >= 0")
    return {
        "steps": args.steps,
        "fidelity": args.fidelity,
        "color": args.color_fix,
        "tile": args.tile,
        "overlap": args.overlap,
    }


def add_degradation_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--degradation",
        choices=DEGRADATIONS,
        default="auto",
        help="auto: JPEG inputs are deblocked with their own quantisation table first, others "
        "taken as clean; clean: nothing is deblocked; real: every input is denoised, then "
        "deblocked, those without a table (e.g. a PNG saved from a JPEG) as if saved at "
        f"quality {REAL_QUALITY}; it costs clean inputs much of the gain (default: %(default)s)",
    )
