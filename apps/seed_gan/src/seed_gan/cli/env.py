"""``seed-gan env``: versions, machine and devices, for bug reports."""

from __future__ import annotations

import argparse

from core_flows.cli.env import add_env_parser
from seed_gan import __version__

PACKAGES = ("torchvision", "accelerate", "scikit-learn", "opencv-python")


def add_parser(sub: argparse._SubParsersAction) -> None:
    add_env_parser(sub, "seed-gan", __version__, PACKAGES)
