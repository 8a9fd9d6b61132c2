"""``seed-gan`` command line. The subcommands listed in the help are not built yet."""

from __future__ import annotations

import argparse
import sys

from seed_gan import __version__

PLANNED = """\
planned subcommands (not available yet):
    synth      write a synthetic corn-seed dataset
    gan        train|sample the class-conditional GAN
    classify   train|evaluate the seed classifier
    select     batch active learning: which images to label next
    grade      per-seed classes and lot purity report
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="seed-gan",
        description="Seed purity grading with a class-conditional GAN for rare defect classes.",
        epilog=PLANNED,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"seed-gan {__version__}")
    parser.parse_args(argv)
    parser.print_help(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
