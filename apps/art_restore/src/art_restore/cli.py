"""``art-restore`` command line. The subcommands listed in the help are not built yet."""

from __future__ import annotations

import argparse
import sys

from art_restore import __version__

PLANNED = """\
planned subcommands (not available yet):
    degrade   write paired datasets with the published degradation types
    train     fine-tune the restorer on mixed degradations
    restore   restore images and folders
    evaluate  PSNR/SSIM per degradation type against classical baselines
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="art-restore",
        description="Restoration of photographed artworks: one diffusion model for many degradations.",
        epilog=PLANNED,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"art-restore {__version__}")
    parser.parse_args(argv)
    parser.print_help(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
