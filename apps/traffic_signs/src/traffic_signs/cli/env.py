"""``traffic-signs env``: versions, machine and devices, for bug reports."""

from __future__ import annotations

import argparse

from core_flows.cli.env import add_env_parser
from traffic_signs import __version__

PACKAGES = ("ultralytics", "opencv-python", "safetensors")


def add_parser(sub: argparse._SubParsersAction) -> None:
    add_env_parser(sub, "traffic-signs", __version__, PACKAGES)
