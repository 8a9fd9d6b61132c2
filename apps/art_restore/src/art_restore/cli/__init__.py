"""``art-restore``: one command with subcommands; each subcommand module has add_parser() and run()."""

from __future__ import annotations

import argparse
import sys

from art_restore import __version__
from art_restore.cli import degrade, env, evaluate, restore, train
from core_flows.utils import command_parser, run_command

SUBCOMMANDS = (restore, degrade, train, evaluate, env)

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    return command_parser(
        "art-restore",
        "Restoration of photographed artworks: one diffusion model (Affine-StableSR at scale 1) "
        "for blur, noise, fading, dullness, pixelation, rain, water damage, scratches and cracks "
        "at once.",
        __version__,
        SUBCOMMANDS,
    )


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
