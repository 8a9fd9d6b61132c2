"""``geomap``: one command with subcommands; each subcommand module has add_parser() and run()."""

import logging

from app_toolkit.cli import make_main
from geomap import __version__
from geomap.cli import bench, run, sentinel2, synth

__all__ = ["main"]


def _quiet_gdal() -> None:
    # GDAL's own error lines repeat what our one-line errors already say (warnings such as
    # rasterio's NotGeoreferencedWarning are silenced by app_toolkit unless --verbose).
    logging.getLogger("rasterio._env").setLevel(logging.CRITICAL)


main = make_main(
    "geomap",
    "Unsupervised geological mapping of multispectral rasters: stacked autoencoder, "
    "k-means and a majority filter, GeoTIFF in and out.",
    __version__,
    (run, synth, sentinel2, bench),
    env_packages=("rasterio", "scikit-learn", "kneed", "accelerate"),
    setup=_quiet_gdal,
)
