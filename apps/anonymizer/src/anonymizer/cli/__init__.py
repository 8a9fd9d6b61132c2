"""``anonymize``: one command with subcommands; each subcommand module has add_parser() and run()."""

from __future__ import annotations

import argparse
import logging
import sys

from anonymizer import __version__
from anonymizer.cli import apply_review, bench, env, run, synth, verify
from anonymizer.media import MediaError

SUBCOMMANDS = (run, apply_review, verify, bench, synth, env)

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anonymize",
        description="Privacy for driving datasets: find faces and licence plates in images and "
        "videos and replace them by inpainting, with review files to correct the results.",
    )
    parser.add_argument("--version", action="version", version=f"anonymize {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")
    try:
        return args.run(args) or 0
    except (ValueError, MediaError) as err:  # bad input: one line, no traceback
        print(f"anonymize {args.command}: error: {err}", file=sys.stderr)
        return 2
    except (OSError, RuntimeError) as err:
        print(f"anonymize {args.command}: failed: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
