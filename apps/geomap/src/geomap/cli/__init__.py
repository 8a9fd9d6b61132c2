"""``geomap``: one command with subcommands; each subcommand module has add_parser() and run()."""

from __future__ import annotations

import argparse
import logging
import sys
import warnings

from rasterio.errors import NotGeoreferencedWarning

from core_flows.utils import command_parser, run_command
from geomap import __version__
from geomap.cli import bench, env, run, synth

SUBCOMMANDS = (run, synth, bench, env)

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    return command_parser(
        "geomap",
        "Unsupervised geological mapping of multispectral rasters: stacked autoencoder, "
        "k-means and a majority filter, GeoTIFF in and out.",
        __version__,
        SUBCOMMANDS,
    )


def main(argv: list[str] | None = None) -> int:
    # GDAL's own error lines repeat what our one-line errors already say, and rasters without
    # georeferencing are fine to map.
    logging.getLogger("rasterio._env").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", category=NotGeoreferencedWarning)
    return run_command(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
