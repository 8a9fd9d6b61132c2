"""Options several subcommands take."""

import argparse

from app_toolkit.cli import COMMON, DEVICE

__all__ = ["COMMON", "DEVICE", "TRAINING"]

TRAINING = argparse.ArgumentParser(add_help=False)
TRAINING.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
TRAINING.add_argument(
    "--size", type=int, default=64, help="image side in pixels (default: %(default)s)"
)
TRAINING.add_argument(
    "--batch-size", type=int, default=64, help="images per step (default: %(default)s)"
)
