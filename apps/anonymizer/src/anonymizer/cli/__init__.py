"""``anonymize``: one command with subcommands; each subcommand module has add_parser() and run()."""

from __future__ import annotations

import argparse
import sys

from anonymizer import __version__
from anonymizer.cli import apply_review, bench, env, run, synth, verify
from core_flows.utils import command_parser, run_command

SUBCOMMANDS = (run, apply_review, verify, bench, synth, env)

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    return command_parser(
        "anonymize",
        "Privacy for driving datasets: find faces and licence plates in images and videos and "
        "replace them by inpainting, with review files to correct the results.",
        __version__,
        SUBCOMMANDS,
    )


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
