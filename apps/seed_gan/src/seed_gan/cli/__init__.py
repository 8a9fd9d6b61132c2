"""``seed-gan``: one command with subcommands; each subcommand module has add_parser() and run()."""

from __future__ import annotations

import argparse
import sys

from core_flows.utils import command_parser, run_command
from seed_gan import __version__
from seed_gan.cli import bench, classify, env, gan, grade, select, synth

SUBCOMMANDS = (grade, classify, gan, select, synth, bench, env)

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    return command_parser(
        "seed-gan",
        "Seed purity grading: a CNN grades every kernel of a lot (pure, broken, discoloured, "
        "silkcut), a class-conditional GAN generates rare defects for training, and batch active "
        "learning picks which images experts should label.",
        __version__,
        SUBCOMMANDS,
    )


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
