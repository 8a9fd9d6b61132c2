"""Unsupervised geological mapping of multispectral rasters with stacked autoencoders.

The public names are imported on first use, so that ``import geomap`` (and the command line's
``--help``) loads neither torch, scikit-learn nor GDAL.
"""

import importlib

__version__ = "0.1.0"

_WHERE = {"GeoMapModel": "geomap.model", "map_raster": "geomap.pipeline"}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'geomap' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_WHERE])
