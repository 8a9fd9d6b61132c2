"""Unsupervised geological mapping of multispectral rasters with stacked autoencoders."""

__version__ = "0.0.1"
