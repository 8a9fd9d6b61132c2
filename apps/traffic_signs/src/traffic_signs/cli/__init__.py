"""``traffic-signs``: one command with subcommands; each subcommand module has add_parser() and
run()."""

from __future__ import annotations

import argparse
import sys

from core_flows.utils import command_parser, run_command
from traffic_signs import __version__
from traffic_signs.cli import audit, detect, env, missing, synth, train

SUBCOMMANDS = (audit, detect, missing, train, synth, env)

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    return command_parser(
        "traffic-signs",
        "Road-sign audits: detect the signs in images and videos (YOLO) and, where the road's "
        "context calls for a warning sign that is not there, raise a missing-sign alert.",
        __version__,
        SUBCOMMANDS,
    )


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
