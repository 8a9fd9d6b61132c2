"""``geomap env``: versions, machine and devices, for bug reports."""

from __future__ import annotations

import argparse

from core_flows.cli.env import add_env_parser
from geomap import __version__

PACKAGES = ("rasterio", "scikit-learn", "kneed", "accelerate")


def add_parser(sub: argparse._SubParsersAction) -> None:
    add_env_parser(sub, "geomap", __version__, PACKAGES)
