"""``affine-sr``: one command with subcommands; each subcommand module has add_parser() and run()."""

from __future__ import annotations

import argparse
import sys

from affine_sr import __version__
from affine_sr.cli import env, evaluate, train, upscale
from core_flows.utils import command_parser, run_command

SUBCOMMANDS = (upscale, train, evaluate, env)

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    return command_parser(
        "affine-sr",
        "Affine-StableSR: diffusion super-resolution with a compact affine-coupling autoencoder "
        "(an invertible flow in place of Stable Diffusion's VAE), a diffusion prior steered by "
        "the low-resolution image, tiled for any image size.",
        __version__,
        SUBCOMMANDS,
    )


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
