"""``core-flows env``: versions, machine and GPU, for bug reports. Other packages' CLIs reuse it
through :func:`add_env_parser`."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from functools import partial
from importlib.metadata import PackageNotFoundError, version

from core_flows import __version__
from core_flows.cli.common import COMMON
from core_flows.utils import environment, print_fields, resolve_device

__all__ = ["add_env_parser", "add_parser"]


def add_env_parser(
    sub: argparse._SubParsersAction, name: str, package_version: str, packages: Sequence[str] = ()
) -> None:
    """An ``env`` subcommand printing ``name``'s version, the machine, the devices and the
    installed versions of ``packages`` (distribution names)."""
    parser = sub.add_parser(
        "env",
        parents=[COMMON],
        help="print versions and devices for bug reports",
        description="Print versions, machine and devices for bug reports.",
    )
    parser.set_defaults(run=partial(run, name, package_version, tuple(packages)))


def add_parser(sub: argparse._SubParsersAction) -> None:
    add_env_parser(sub, "core_flows", __version__)


def run(
    name: str, package_version: str, packages: tuple[str, ...], args: argparse.Namespace
) -> int:
    info = {name: package_version, **environment(resolve_device("auto"))}
    for package in packages:
        try:
            info[package] = version(package)
        except PackageNotFoundError:
            info[package] = "not installed"
    print_fields(info)
    return 0
