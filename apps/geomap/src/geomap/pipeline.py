"""The whole job: raster in; unit map (GeoTIFF, PNG), k-selection plot, metrics and model out."""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

from accelerate import PartialState

from app_toolkit.files import write_json
from geomap.kselect import SEGMENT_PIXELS
from geomap.metrics import agreement_from_table, internal_indices
from geomap.model import GeoMapModel
from geomap.options import CLEANINGS, DEFAULT_K_METHOD, DEFAULT_REDUCER, DEFAULT_TRANSFORM, K_ON
from geomap.plots import plot_confusion, plot_k_choice, plot_map
from geomap.raster import (
    MRF_MAX_PIXELS,
    RasterInput,
    check_same_grid,
    contingency_raster,
    filter_raster,
    mrf_raster,
    predict_raster,
    read_labels,
    sample_pixels,
)

__all__ = ["CLEANINGS", "K_ON", "K_WINDOW", "central_window", "map_raster"]

log = logging.getLogger(__name__)


def map_raster(
    raster: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    bands: list[int] | None = None,
    masks: list[str | os.PathLike] = (),
    reducer: str = DEFAULT_REDUCER,
    k: int | None = None,
    k_max: int = 20,
    k_method: str = DEFAULT_K_METHOD,
    k_on: str = "pixels",
    k_check: str = "spatial",
    transform: str = DEFAULT_TRANSFORM,
    filter_size: int = 7,
    cleaning: str = "mrf",
    sample: int = 50_000,
    epochs: int = 30,
    window: int = 1024,
    model: str | os.PathLike | None = None,
    reference: str | os.PathLike | None = None,
    seed: int = 0,
    device: str = "cpu",
    progress: bool = True,
    overwrite: bool = False,
) -> dict:
    """Map the rock units of a multi-band raster.

    Fits the band ``transform`` (log or linear reflectance), scaling, ``reducer`` and k-means on a
    sample of ``sample`` valid pixels (or loads a fitted ``model`` folder), labels the raster window
    by window, majority-filters it (``filter_size``, 1 for none) and writes into ``out_dir``:
    ``units.tif`` (uint8, 0 = nodata, the input's CRS and transform), ``units_raw.tif`` (before
    filtering), ``map.png``, ``k_choice.png`` (when k was chosen, by ``k_method``),
    ``confusion.png`` (with a ``reference`` map), ``metrics.json`` and ``model/``. With
    ``k_on="segments"`` the criterion judges the superpixels of the central
    :data:`K_WINDOW`-pixel window rather than single pixels (:func:`geomap.kselect.segment_means`);
    with ``k_check="spatial"`` the chosen k is checked against that window's cleaned map
    (``GeoMapModel.check_k``).
    ``cleaning="mrf"`` labels with k-means under a Potts prior (:func:`geomap.raster.mrf_raster`)
    before the majority filter; ``units_raw.tif`` is then the random field's map. An ``out_dir``
    holding a map of an earlier run is refused unless ``overwrite``, which first removes that run's
    files, so no stale file is left beside the new map.
    """
    if cleaning not in CLEANINGS:
        raise ValueError(f"cleaning must be one of {', '.join(CLEANINGS)}, got {cleaning!r}")
    if k_on not in K_ON:
        raise ValueError(f"k must be judged on one of {', '.join(K_ON)}, got {k_on!r}")
    if sample < 100:
        raise ValueError(f"sample must be >= 100 pixels, got {sample}")
    if window < 16:
        raise ValueError(f"window must be >= 16 pixels, got {window}")
    if filter_size < 1 or filter_size % 2 == 0 or filter_size > 101:
        raise ValueError(f"filter size must be an odd number in 1..101, got {filter_size}")
    out_dir = Path(out_dir)
    outputs = {(out_dir / name).resolve() for name in ("units.tif", "units_raw.tif")}
    if Path(raster).resolve() in outputs or any(Path(m).resolve() in outputs for m in masks):
        raise ValueError("the outputs would overwrite an input raster; choose another --out")
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"--out {out_dir} is a file, not a folder")
    earlier = [out_dir / name for name in OUTPUT_NAMES if (out_dir / name).exists()]
    if earlier and not overwrite:
        raise ValueError(
            f"--out {out_dir} holds a map of an earlier run; pass --overwrite to replace it"
        )
    timings: dict[str, float] = {}
    with RasterInput(raster, bands, masks) as src:
        height, width = src.shape
        # Everything that can be wrong with the arguments is found before the long work starts.
        if model is not None:
            fitted = GeoMapModel.from_pretrained(model, device)
            if fitted.config["bands"] != len(src.bands):
                raise ValueError(
                    f"model {model} was fitted on {fitted.config['bands']} bands, "
                    f"this raster gives {len(src.bands)}"
                )
        else:
            fitted = GeoMapModel(
                len(src.bands), reducer, k, k_max, epochs, seed=seed, device=device,
                k_method=k_method, transform=transform, k_check=k_check,
            )  # fmt: skip
        if reference is not None:
            contingency_raster_check(reference, src.src)
        for path in earlier:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        out_dir.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        pixels, valid_count = sample_pixels(src, sample, window, seed)
        timings["sample_s"] = time.perf_counter() - start
        start = time.perf_counter()
        if model is None:
            context = None
            if k is None and (k_on == "segments" or k_check == "spatial"):
                context = central_window(src, K_WINDOW)
            if context is None:
                k_on = "pixels"  # the window had too few valid pixels
            fitted.fit(pixels, progress, window=context, k_on=k_on)
        timings["fit_s"] = time.perf_counter() - start
        if not PartialState().is_main_process:
            return {}  # under `accelerate launch` the other processes only helped to train
        start = time.perf_counter()
        raw_path, final_path = out_dir / "units_raw.tif", out_dir / "units.tif"
        if cleaning == "mrf" and height * width > MRF_MAX_PIXELS:
            log.warning(
                "%d pixels: more than the Markov random field holds in memory (%d); "
                "the map is cleaned by the majority filter alone", height * width, MRF_MAX_PIXELS,
            )  # fmt: skip
            cleaning = "majority"
        if cleaning == "mrf":
            counts = mrf_raster(src, fitted, raw_path, window, progress)
        else:
            counts = predict_raster(src, fitted.predict, raw_path, window, progress)
        timings["predict_s"] = time.perf_counter() - start
    start = time.perf_counter()
    filter_raster(raw_path, final_path, filter_size, fitted.k, window)
    timings["filter_s"] = time.perf_counter() - start

    labels = read_labels(final_path, max_pixels=16_000_000)  # decimated for very large maps
    features = fitted.features(pixels)
    metrics: dict = {
        "raster": str(raster),
        "shape": [height, width],
        "bands": len(src.bands),
        "valid_pixels": valid_count,
        "sample_pixels": len(pixels),
        "reducer": fitted.config["reducer"],
        "transform": fitted.config["transform"],
        "k": fitted.k,
        "k_chosen_by": fitted.k_choice["method"] if fitted.k_choice else None,
        "unit_pixels_before_filter": {u: int(counts[u]) for u in range(1, fitted.k + 1)},
        "cleaning": cleaning,
        "filter_size": filter_size,
        "internal": internal_indices(features, fitted.assign(features), seed=seed),
        "timings": {k_: round(v, 3) for k_, v in timings.items()},
        "fit_pixels_per_second": len(pixels) / max(timings["fit_s"], 1e-9),
        "predict_pixels_per_second": height * width / max(timings["predict_s"], 1e-9),
    }
    if fitted.k_choice is not None:
        metrics["k_choice"] = fitted.k_choice  # chosen k, runner-up, the criterion's curve
        plot_k_choice(fitted.k_choice, out_dir / "k_choice.png")
    if reference is not None:
        result = agreement_from_table(contingency_raster(final_path, reference, window))
        raw = agreement_from_table(contingency_raster(raw_path, reference, window))
        metrics["reference"] = {
            **result,
            "accuracy_before_filter": raw["accuracy"],
            "adjusted_rand_index_before_filter": raw["adjusted_rand_index"],
        }
        plot_confusion(result, out_dir / "confusion.png")
    plot_map(
        labels, fitted.k, out_dir / "map.png", title=f"{fitted.config['reducer']}, k = {fitted.k}"
    )
    if model is None:
        fitted.save_pretrained(out_dir / "model")
    write_json(out_dir / "metrics.json", metrics)
    return metrics


K_WINDOW = 512  # side of the window whose superpixels or map give k spatial evidence


def central_window(src: RasterInput, size: int) -> tuple | None:
    """(pixels, valid) of the central ``size``×``size`` window, or ``None`` when it holds too few
    valid pixels to segment (then k is judged on pixels, without spatial evidence)."""
    from rasterio.windows import Window

    height, width = src.shape
    h, w = min(size, height), min(size, width)
    pixels, valid = src.read(Window((width - w) // 2, (height - h) // 2, w, h))
    if valid.sum() < 2 * SEGMENT_PIXELS:
        log.warning("the central window has too few valid pixels; k is judged on pixels alone")
        return None
    return pixels, valid


# Everything map_raster writes; an earlier run's files are removed before a new run writes.
OUTPUT_NAMES = (
    "units.tif",
    "units_raw.tif",
    "map.png",
    "k_choice.png",
    "elbow.png",  # written by earlier versions
    "confusion.png",
    "metrics.json",
    "model",
)


def contingency_raster_check(reference: str | os.PathLike, src) -> None:
    """The reference must be a readable raster on the input's grid."""
    import rasterio
    from rasterio.errors import RasterioIOError

    try:
        with rasterio.open(reference) as ref:
            check_same_grid(src, ref, f"reference {reference}")
    except RasterioIOError as err:
        raise ValueError(f"reference {reference}: not a readable raster ({err})") from None
