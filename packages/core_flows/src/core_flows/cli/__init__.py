"""``core-flows``: one command with subcommands; each subcommand module has add_parser() and run()."""

from __future__ import annotations

import argparse
import sys

from core_flows import __version__
from core_flows.cli import bench, env, evaluate, info, interpolate, sample, train
from core_flows.utils import command_parser, run_command

SUBCOMMANDS = (train, sample, evaluate, interpolate, info, bench, env)

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    return command_parser(
        "core-flows",
        "Normalizing flows with exactly invertible k×k convolutions "
        "(CInC, FInC, Inverse-Flow): train, sample, evaluate and benchmark them.",
        __version__,
        SUBCOMMANDS,
    )


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
