"""``anonymize env``: versions, machine and devices, for bug reports."""

from __future__ import annotations

import argparse
from importlib.metadata import PackageNotFoundError, version

from anonymizer import __version__
from anonymizer.cli.common import COMMON
from core_flows.utils import environment, print_fields, resolve_device

PACKAGES = (
    "opencv-python",
    "facenet-pytorch",
    "diffusers",
    "transformers",
    "ultralytics",
    "accelerate",
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "env",
        parents=[COMMON],
        help="print versions and devices for bug reports",
        description="Print versions, machine and devices for bug reports.",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    info = {"anonymizer": __version__, **environment(resolve_device("auto"))}
    for name in PACKAGES:
        try:
            info[name] = version(name)
        except PackageNotFoundError:
            info[name] = "not installed"
    print_fields(info)
    return 0
