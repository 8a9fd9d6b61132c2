"""The choices and defaults of geomap's options, in one module that imports nothing, so that the
command line parses and prints ``--help`` without loading torch, scikit-learn or GDAL. The modules
that implement each choice import them from here."""

__all__ = [
    "CLEANINGS",
    "DEFAULT_K_METHOD",
    "DEFAULT_REDUCER",
    "DEFAULT_TRANSFORM",
    "K_CHECKS",
    "K_METHODS",
    "K_ON",
    "MIN_ANGLE",
    "REDUCERS",
    "RESAMPLING",
    "SCENE_SETS",
    "SOURCES",
    "TRANSFORMS",
]

K_METHODS = ("elbow", "silhouette", "bic", "gap", "demp")  # criteria that choose k (geomap.kselect)
REDUCERS = ("sae", "ae", "pca", "raw")
# "log": topographic shading multiplies every band by one factor, so in log reflectance it is one
# shift along the diagonal, the same for bright and dark rocks (measured: +0.05-0.08 accuracy over
# linear bands on the k-selection scenes, docs/benchmarks.md)
# "deshaded": log reflectance with the mean over bands (where shading and albedo both live)
# shrunk to DESHADE of itself: units then differ mainly by spectral shape, which shading leaves
# alone, and brightness still counts a little (docs/benchmarks.md)
TRANSFORMS = ("log", "linear", "deshaded")
# the defaults measured best over the separable and the hard scene sets (docs/benchmarks.md):
# the deshaded bands themselves beat the stacked autoencoder's 2-D code under every criterion
DEFAULT_REDUCER, DEFAULT_TRANSFORM = "raw", "deshaded"
DEFAULT_K_METHOD = "demp"  # measured best over both scene sets (docs/benchmarks.md)
K_ON = ("pixels", "segments")  # what the k criterion judges
# after k is chosen: "spatial" checks it against the cleaned map of the central window (units
# without an interior, units split by uneven light: GeoMapModel.check_k), "none" keeps it
K_CHECKS = ("spatial", "none")
CLEANINGS = ("majority", "mrf")  # before the majority filter: nothing, or the random field
SCENE_SETS = ("hard", "separable")  # geomap bench --scenes
MIN_ANGLE = 8.0  # degrees between any two units' spectra in the separable set
# packaged Sentinel-2 scenes: requirement, package, path of the data inside it (geomap.sentinel2)
SOURCES = {
    "xrspatial": ("xarray-spatial==0.5.3", "xrspatial", "datasets/sentinel-2"),
    "spyndex": ("spyndex==0.12.0", "spyndex", "data/S2_10m.json"),
}
RESAMPLING = ("bilinear", "cubic", "average", "nearest")
