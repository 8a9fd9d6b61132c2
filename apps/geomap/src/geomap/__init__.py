"""Unsupervised geological mapping of multispectral rasters with stacked autoencoders."""

__version__ = "0.1.0"

from geomap.model import GeoMapModel  # noqa: E402
from geomap.pipeline import map_raster  # noqa: E402

__all__ = ["GeoMapModel", "map_raster"]
