"""``affine-sr`` command line. The subcommands listed in the help are not built yet."""

from __future__ import annotations

import argparse
import sys

from affine_sr import __version__

PLANNED = """\
planned subcommands (not available yet):
    upscale   IN... --scale 4 --out DIR: tiled diffusion super-resolution
    train     paired training with Real-ESRGAN-style degradations
    evaluate  PSNR/SSIM against HR references, parameter counts, seconds per image
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="affine-sr",
        description="Affine-StableSR: diffusion super-resolution with a compact affine-coupling autoencoder.",
        epilog=PLANNED,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"affine-sr {__version__}")
    parser.parse_args(argv)
    parser.print_help(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
