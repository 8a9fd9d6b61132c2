"""``core-flows env``: versions, machine and GPU, for bug reports."""

from __future__ import annotations

import argparse

from core_flows import __version__
from core_flows.cli.common import COMMON
from core_flows.utils import environment, print_fields, resolve_device


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "env",
        parents=[COMMON],
        help="print versions and devices for bug reports",
        description="Print versions, machine and devices for bug reports.",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print_fields({"core_flows": __version__, **environment(resolve_device("auto"))})
    return 0
