"""Unsupervised geological mapping of multispectral rasters with stacked autoencoders.

The public names are imported on first use, so that ``import geomap`` (and the command line's
``--help``) loads neither torch, scikit-learn nor GDAL.
"""

from app_toolkit.lazy import lazy_names

__version__ = "0.1.0"

_WHERE = {"GeoMapModel": "geomap.model", "map_raster": "geomap.pipeline"}

__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_names(__name__, _WHERE)
