"""``art-restore env``: versions, machine and devices, for bug reports."""

from __future__ import annotations

import argparse

from art_restore import __version__
from core_flows.cli.env import add_env_parser

PACKAGES = ("affine-sr", "diffusers", "accelerate", "opencv-python")


def add_parser(sub: argparse._SubParsersAction) -> None:
    add_env_parser(sub, "art-restore", __version__, PACKAGES)
