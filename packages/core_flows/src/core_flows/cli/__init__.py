"""``core-flows``: one command with subcommands; each subcommand module has add_parser() and run()."""

from __future__ import annotations

import argparse
import logging
import sys

from core_flows import __version__
from core_flows.cli import bench, env, evaluate, info, interpolate, sample, train

SUBCOMMANDS = (train, sample, evaluate, interpolate, info, bench, env)

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="core-flows",
        description="Normalizing flows with exactly invertible k×k convolutions "
        "(CInC, FInC, Inverse-Flow): train, sample, evaluate and benchmark them.",
    )
    parser.add_argument("--version", action="version", version=f"core-flows {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if getattr(args, "quiet", False) else logging.INFO,
        format="%(message)s",
    )
    try:
        return args.run(args) or 0
    except ValueError as err:  # bad input: one line, no traceback
        print(f"core-flows {args.command}: error: {err}", file=sys.stderr)
        return 2
    except (OSError, RuntimeError) as err:
        print(f"core-flows {args.command}: failed: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
