"""Choices and defaults the command line offers, kept free of torch so that ``affine-sr --help``
starts fast; the modules that use them import them from here."""

__all__ = ["COLOR_FIXES", "DEFAULTS", "LR_KINDS"]

# colour corrections of :func:`affine_sr.color.color_fix`
COLOR_FIXES = ("adain", "wavelet", "none")

# the sampling settings `affine-sr upscale` and `evaluate` use unless told otherwise
DEFAULTS = {"steps": 1, "fidelity": 1.0, "color": "wavelet", "tile": 64, "overlap": 8}

# how :mod:`affine_sr.evaluate` makes the low-resolution inputs from HR references
LR_KINDS = ("bicubic", "jpeg", "realesrgan")
