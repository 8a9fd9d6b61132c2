"""The kinds of damage and the sampling defaults, in a module that imports nothing heavy, so that
``art-restore --help`` and the checks of the command line's options load neither OpenCV nor
torch. :mod:`art_restore.degrade` and :mod:`art_restore.restorer` export the same names."""

__all__ = ["DEFAULTS", "FAMILIES", "FAMILY", "KINDS"]

# Families of damage the restorer's damage map tells apart. Tone, noise and blur change every
# pixel; lines and stains change the pixels their own masks mark.
FAMILIES = ("tone", "noise", "blur", "lines", "stains")
# every kind of damage of :data:`art_restore.degrade.DEGRADATIONS`, in its order -> its family
FAMILY = {
    "blur": "blur",
    "dull": "tone",
    "fade": "tone",
    "gaussian_noise": "noise",
    "motion_blur": "blur",
    "noise": "noise",
    "pixelate": "blur",
    "radial_blur": "blur",
    "rain": "lines",
    "water_damage": "stains",
    "scratches": "lines",
    "cracks": "lines",
}
KINDS = tuple(FAMILY)  # the names of the kinds of damage, for the command line

# sampling settings of a diffusion model in `restore` and `evaluate` unless given
# (tiles of 256 input pixels: at scale 1 the same memory as 64-pixel tiles at ×4)
DEFAULTS = {"steps": 1, "fidelity": 0.0, "color": "none", "tile": 256, "overlap": 32}
