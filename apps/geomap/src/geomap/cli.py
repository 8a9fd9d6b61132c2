"""``geomap`` command line. The subcommands listed in the help are not built yet."""

from __future__ import annotations

import argparse
import sys

from geomap import __version__

PLANNED = """\
planned subcommands (not available yet):
    run    GeoTIFF in, unit map (GeoTIFF, PNG, metrics) out
    synth  synthetic multispectral scene with a known unit map
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="geomap",
        description="Unsupervised geological mapping of multispectral rasters with stacked autoencoders.",
        epilog=PLANNED,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"geomap {__version__}")
    parser.parse_args(argv)
    parser.print_help(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
