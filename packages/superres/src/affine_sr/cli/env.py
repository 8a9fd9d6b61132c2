"""``affine-sr env``: versions, machine and devices, for bug reports."""

from __future__ import annotations

import argparse

from affine_sr import __version__
from core_flows.cli.env import add_env_parser

PACKAGES = ("diffusers", "accelerate", "safetensors", "scikit-image", "opencv-python")


def add_parser(sub: argparse._SubParsersAction) -> None:
    add_env_parser(sub, "affine-sr", __version__, PACKAGES)
