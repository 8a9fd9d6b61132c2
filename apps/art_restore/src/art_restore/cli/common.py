"""Options several subcommands take."""

import argparse

from affine_sr.cli.common import sampling_options, sampling_parser
from app_toolkit.cli import COMMON, add_device_option
from art_restore.options import DEFAULTS, KINDS

__all__ = ["COMMON", "MODEL", "SAMPLING", "kinds", "sampling_options"]

MODEL = argparse.ArgumentParser(add_help=False)
add_device_option(MODEL)
MODEL.add_argument(
    "--model",
    default="default",
    help="`art-restore train` output folder, `default` (the shipped restorer) or `superres` "
    "(the ×4 super-resolution weights, not fine-tuned) (default: %(default)s)",
)
MODEL.add_argument(
    "--no-detector",
    action="store_true",
    help="run the residual network on every image, damaged or not, instead of only on the kinds "
    "of damage the model's detector finds (how restorers without a detector.json work)",
)

SAMPLING = sampling_parser(DEFAULTS, scale=False)


def kinds(text: str) -> tuple[str, ...]:
    """``all`` or a comma-separated list of degradation names."""
    if text == "all":
        return KINDS
    chosen = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in chosen if k not in KINDS]
    if unknown or not chosen:
        raise ValueError(f"unknown degradations {unknown}; choose from {', '.join(KINDS)}")
    return chosen
