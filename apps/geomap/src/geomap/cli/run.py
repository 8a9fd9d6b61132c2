"""``geomap run``: a multispectral GeoTIFF in, a map of rock units out."""

from __future__ import annotations

import argparse
import logging

from app_toolkit.cli import add_device_option, bounded
from geomap.cli.common import COMMON, int_list
from geomap.options import (
    CLEANINGS,
    DEFAULT_K_METHOD,
    DEFAULT_REDUCER,
    DEFAULT_TRANSFORM,
    K_CHECKS,
    K_METHODS,
    K_ON,
    REDUCERS,
    TRANSFORMS,
)

log = logging.getLogger("geomap")

EPILOG = """\
outputs in DIR:
  units.tif      unit labels 1..k (uint8, 0 = nodata), the input's CRS and transform
  units_raw.tif  the same before the majority filter
  map.png        colour map with legend        k_choice.png   criterion curve (when k is chosen)
  confusion.png  with --reference              metrics.json   indices, agreement, timings
  model/         the fitted model (config.json + model.safetensors), reusable with --model

examples:
  geomap run sentinel2.tif --out map/ --bands 2,3,4,5,6,7,8,11,12 --mask clouds.tif
  geomap run aster.tif --out map/ --k 6 --reducer pca --reference geology.tif
  geomap run other_scene.tif --out map2/ --model map/model
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "run",
        parents=[COMMON],
        help="map rock units of a multispectral GeoTIFF",
        description="Transform and scale each band (deshaded log reflectance by default), "
        "optionally reduce each pixel's band vector (--reducer; the paper's stacked autoencoder "
        "is an option, the bands themselves measured best), cluster with k-means (k chosen by a "
        "model-selection criterion unless given) under a Potts Markov random field, clean the "
        "map with a majority filter and write it as a GeoTIFF with the input's georeferencing. "
        "Rasters larger than memory work: fitting uses a pixel sample, prediction goes window "
        "by window (the random field holds up to 25 million pixels; larger maps get the "
        "majority filter alone).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("raster", metavar="RASTER", help="multi-band GeoTIFF (or any GDAL raster)")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--bands", type=int_list, help="1-based bands to use, e.g. 2,3,4,8 (default: all)"
    )
    parser.add_argument(
        "--mask",
        action="append",
        default=[],
        metavar="TIF",
        help="raster on the same grid, non-zero = leave out (clouds, water); may repeat",
    )
    parser.add_argument(
        "--reducer",
        choices=REDUCERS,
        default=DEFAULT_REDUCER,
        help="sae: stacked autoencoder (the paper's); ae: one autoencoder; pca: 90%% of the "
        "variance; raw: the scaled bands (default: %(default)s)",
    )
    parser.add_argument(
        "--transform",
        choices=TRANSFORMS,
        default=DEFAULT_TRANSFORM,
        help="band values clustered: log reflectance (topographic shading becomes one shift, "
        "the same for bright and dark rocks), deshaded (log, with the mean over bands shrunk "
        "to 30%%: spectral shape counts most) or linear (default: %(default)s)",
    )
    parser.add_argument(
        "--k", type=bounded(int, 2, 256), help="number of units (default: chosen, see --k-method)"
    )
    parser.add_argument(
        "--k-method",
        choices=K_METHODS,
        default=DEFAULT_K_METHOD,
        help="how k is chosen over 2..--k-max: silhouette width, Gaussian-mixture BIC, gap "
        "statistic, the elbow of the k-means inertia, or demp: the mixture of lowest BIC with "
        "components merged while they misclassify each other's pixels (default: %(default)s)",
    )
    parser.add_argument(
        "--k-on",
        choices=K_ON,
        default="pixels",
        help="what the criterion judges: single pixels, or the mean features of superpixels "
        "(SLIC) of the central 512×512 window, which average noise out (default: %(default)s)",
    )
    parser.add_argument(
        "--k-check",
        choices=K_CHECKS,
        default="spatial",
        help="after k is chosen, check it against the cleaned map of the central 512×512 "
        "window: units with no interior (the mixed pixels of contacts) and units that differ "
        "only as shading would and meet without an edge are merged, k lowered; none: keep the "
        "criterion's k (default: %(default)s)",
    )
    parser.add_argument(
        "--k-max",
        type=bounded(int, 3, 255),
        default=20,
        help="largest k tried (default: %(default)s)",
    )
    parser.add_argument(
        "--filter-size",
        type=bounded(int, 1, 99),
        default=7,
        help="majority filter window, odd; 1 for none (default: %(default)s)",
    )
    parser.add_argument(
        "--cleaning",
        choices=CLEANINGS,
        default="mrf",
        help="majority: the majority filter alone; mrf: k-means with a Potts prior (a Markov "
        "random field whose centres move, fitted by EM) before it, for rasters up to 25 million "
        "pixels (default: %(default)s)",
    )
    parser.add_argument(
        "--sample",
        type=bounded(int, 100, 100_000_000),
        default=50_000,
        help="pixels drawn over the raster to fit on (default: %(default)s)",
    )
    parser.add_argument(
        "--epochs", type=int, default=30, help="autoencoder epochs (default: %(default)s)"
    )
    parser.add_argument(
        "--window",
        type=bounded(int, 16, 65_536),
        default=1024,
        help="window size for streamed prediction; memory grows with its square "
        "(default: %(default)s)",
    )
    parser.add_argument("--model", metavar="DIR", help="use a fitted model instead of fitting one")
    parser.add_argument(
        "--reference",
        metavar="TIF",
        help="geology map on the same grid (unit ids, 0 = unknown): accuracy after optimal "
        "label matching, adjusted Rand index and a confusion matrix",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the map of an earlier run in --out (its files are removed first)",
    )
    add_device_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app_toolkit.devices import resolve_device
    from geomap.pipeline import map_raster

    metrics = map_raster(
        args.raster,
        args.out,
        bands=args.bands,
        masks=args.mask,
        reducer=args.reducer,
        k=args.k,
        k_max=args.k_max,
        k_method=args.k_method,
        k_on=args.k_on,
        k_check=args.k_check,
        cleaning=args.cleaning,
        transform=args.transform,
        filter_size=args.filter_size,
        sample=args.sample,
        epochs=args.epochs,
        window=args.window,
        model=args.model,
        reference=args.reference,
        seed=args.seed,
        device=str(resolve_device(args.device)),
        progress=not args.quiet,
        overwrite=args.overwrite,
    )
    internal, choice = metrics["internal"], metrics.get("k_choice") or {}
    how = ""
    if metrics["k_chosen_by"]:
        how = f" (by {metrics['k_chosen_by']}; runner-up {choice['runner_up']}"
        if choice.get("k_criterion", metrics["k"]) != metrics["k"]:
            how += f", lowered from {choice['k_criterion']} by the map check"
        how += ")"
    print(
        f"{metrics['reducer']}: k = {metrics['k']}{how}" + ", "
        f"{metrics['valid_pixels']} valid pixels, Calinski-Harabasz "
        f"{internal['calinski_harabasz'] or float('nan'):.0f}, Davies-Bouldin "
        f"{internal['davies_bouldin'] or float('nan'):.3f}"
    )
    if "reference" in metrics:
        ref = metrics["reference"]
        print(
            f"against the reference: accuracy {ref['accuracy']:.3f} "
            f"({ref['accuracy_before_filter']:.3f} before the filter), "
            f"kappa {ref['kappa']:.3f}, mean F1 {ref['mean_f1']:.3f}, "
            f"adjusted Rand index {ref['adjusted_rand_index']:.3f}"
        )
    log.info("Results saved to %s", args.out)
    return 0
