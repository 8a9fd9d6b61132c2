"""``anonymize env``: versions, machine and devices, for bug reports."""

from __future__ import annotations

import argparse

from anonymizer import __version__
from core_flows.cli.env import add_env_parser

PACKAGES = (
    "opencv-python",
    "facenet-pytorch",
    "diffusers",
    "transformers",
    "ultralytics",
    "accelerate",
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    add_env_parser(sub, "anonymizer", __version__, PACKAGES)
