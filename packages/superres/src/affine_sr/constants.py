"""Choices and defaults the command line offers, kept free of torch so that ``affine-sr --help``
starts fast; the modules that use them import them from here."""

__all__ = ["COLOR_FIXES", "DEFAULTS", "DEGRADATIONS", "LR_KINDS", "REAL_QUALITY"]

# colour corrections of :func:`affine_sr.color.color_fix`
COLOR_FIXES = ("adain", "wavelet", "none")

# the sampling settings `affine-sr upscale` and `evaluate` use unless told otherwise
DEFAULTS = {"steps": 1, "fidelity": 1.0, "color": "wavelet", "tile": 64, "overlap": 8}

# how :mod:`affine_sr.evaluate` makes the low-resolution inputs from HR references
LR_KINDS = ("bicubic", "jpeg", "realesrgan")

# what `upscale --degradation` assumes of an input: ``auto`` deblocks JPEG files with their own
# quantisation table and takes other files as clean; ``clean`` never deblocks; ``real`` denoises
# every input, then deblocks it, files without a table (a PNG saved from a JPEG) as if saved at
# REAL_QUALITY
DEGRADATIONS = ("auto", "clean", "real")
REAL_QUALITY = 75
