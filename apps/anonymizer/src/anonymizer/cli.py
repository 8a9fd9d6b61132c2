"""``anonymize`` command line. The subcommands listed in the help are not built yet."""

from __future__ import annotations

import argparse
import sys

from anonymizer import __version__

PLANNED = """\
planned subcommands (not available yet):
    run           anonymize images, folders and videos
    apply-review  re-render from an edited review file
    verify        residual detection rate on anonymized outputs
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="anonymize",
        description="Privacy for driving datasets: faces and licence plates found and replaced by inpainting.",
        epilog=PLANNED,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"anonymize {__version__}")
    parser.parse_args(argv)
    parser.print_help(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
