"""Accuracy and speed of each reducer on a synthetic scene with a known unit map, and the
k-selection benchmark: many scenes with known unit counts, every reducer and criterion."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from app_toolkit.devices import environment, resolve_device
from geomap.kselect import K_METHODS, choose_k, segment_means
from geomap.metrics import agreement, majority_filter, spatial_kmeans
from geomap.model import GeoMapModel, _kmeans, log_floor
from geomap.options import DEFAULT_TRANSFORM, MIN_ANGLE, REDUCERS, SCENE_SETS
from geomap.pipeline import map_raster
from geomap.synth import SIGNATURES, make_scene, separable_spectra, write_scene

__all__ = [
    "bench",
    "format_bench",
    "format_scenes_bench",
    "SCENE_SETS",
    "scene_set",
    "scenes_bench",
    "supervised_accuracy",
]

# band subsets of the synthetic scenes' Sentinel-2 bands (B2 B3 B4 B5 B6 B7 B8 B8A B11 B12)
BAND_SETS = {
    "10 m (4)": [0, 1, 2, 6],
    "10+20 m SWIR (6)": [0, 1, 2, 6, 8, 9],
    "all (10)": list(range(10)),
}


def bench(
    out_dir: str | os.PathLike,
    *,
    reducers: tuple[str, ...] = REDUCERS[::-1],
    size: tuple[int, int] = (512, 512),
    units: int = 6,
    k: int | None = None,
    epochs: int = 30,
    seed: int = 0,
    transform: str = DEFAULT_TRANSFORM,
    device: str = "cpu",
    progress: bool = False,
) -> dict:
    """Write the synthetic scene to ``out_dir/scene`` and map it with each reducer into
    ``out_dir/<reducer>``; returns one row per reducer with the agreement and speed figures."""
    out_dir = Path(out_dir)
    paths = write_scene(out_dir / "scene", make_scene(size, units, seed))
    rows = []
    for reducer in reducers:
        m = map_raster(
            paths["scene"],
            out_dir / reducer,
            reducer=reducer,
            k=k,
            epochs=epochs,
            seed=seed,
            transform=transform,
            reference=paths["reference"],
            device=device,
            progress=progress,
        )
        ref = m["reference"]
        rows.append(
            {
                "reducer": reducer,
                "k": m["k"],
                "accuracy": ref["accuracy"],
                "accuracy_before_filter": ref["accuracy_before_filter"],
                "adjusted_rand_index": ref["adjusted_rand_index"],
                "calinski_harabasz": m["internal"]["calinski_harabasz"],
                "davies_bouldin": m["internal"]["davies_bouldin"],
                "fit_pixels_per_second": m["fit_pixels_per_second"],
                "predict_pixels_per_second": m["predict_pixels_per_second"],
                "timings": m["timings"],
            }
        )
    return {
        "size": list(size),
        "units": units,
        "k": k,
        "epochs": epochs,
        "seed": seed,
        "transform": transform,
        "rows": rows,
        "environment": environment(resolve_device(device)),
    }


def format_bench(result: dict) -> str:
    h, w = result["size"]
    k = result["k"] or "chosen"
    lines = [
        f"synthetic scene {h}×{w}, {result['units']} units, k = {k}",
        f"{'reducer':<8} {'k':>3} {'accuracy':>9} {'(raw)':>7} {'ARI':>6} {'CH':>10} {'DB':>6} "
        f"{'fit px/s':>10} {'predict px/s':>13}",
    ]
    for r in result["rows"]:
        lines.append(
            f"{r['reducer']:<8} {r['k']:>3} {r['accuracy']:>9.3f} {r['accuracy_before_filter']:>7.3f} "
            f"{r['adjusted_rand_index']:>6.3f} {r['calinski_harabasz']:>10.0f} "
            f"{r['davies_bouldin']:>6.3f} {r['fit_pixels_per_second']:>10.0f} "
            f"{r['predict_pixels_per_second']:>13.0f}"
        )
    return "\n".join(lines)


def scene_set(count: int = 30, size: int = 160, seed: int = 1000, kind: str = "hard") -> list[dict]:
    """``count`` scene settings, fixed by ``seed`` (not the tests' or the demo's scenes), units
    3..12 in turn, contact mixing varied.

    - ``hard``: each unit a random choice of the 12 library rock types, several of which differ
      by less than shading, texture and noise; noise 0.005-0.02; 4, 6 or 10 bands.
    - ``separable``: random spectra every pair of which is at least :data:`MIN_ANGLE` degrees
      apart over the scene's bands (:func:`geomap.synth.separable_spectra`); Sentinel-2-like
      noise 0.005-0.01; 6 or 10 bands (4 bands cannot hold 12 units that far apart).
    """
    if kind not in SCENE_SETS:
        raise ValueError(f"scene set must be one of {', '.join(SCENE_SETS)}, got {kind!r}")
    scenes = []
    for i in range(count):
        rng = np.random.default_rng(seed + i)
        units = 3 + i % 10
        scene = {"set": kind, "seed": seed + i, "size": size, "units": units}
        if kind == "hard":
            scene["names"] = [str(n) for n in rng.choice(list(SIGNATURES), units, replace=False)]
            scene["noise"] = float(rng.choice([0.005, 0.01, 0.02]))
            scene["bands"] = list(BAND_SETS)[i % len(BAND_SETS)]
        else:
            scene["bands"] = list(BAND_SETS)[1 + i % 2]
            spectra = separable_spectra(units, rng, MIN_ANGLE, BAND_SETS[scene["bands"]])
            scene["spectra"] = spectra.round(4).tolist()
            scene["noise"] = float(rng.choice([0.005, 0.01]))
        scene["mixing"] = float(rng.choice([1.0, 1.5, 2.5]))
        scenes.append(scene)
    return scenes


class _MapAccuracy:
    """Accuracy of the k-means map of ``features`` against ``units``, cleaned by the majority
    filter alone and by the Markov random field before it (:func:`geomap.metrics.spatial_kmeans`),
    computed once per k."""

    def __init__(self, features: np.ndarray, units: np.ndarray, filter_size: int):
        self.features, self.units, self.filter_size, self.cache = features, units, filter_size, {}

    def __call__(self, k: int) -> dict[str, float]:
        if k not in self.cache:
            fit = _kmeans(self.features, k, 0)
            grid = self.features.reshape(*self.units.shape, -1)
            maps = {
                "majority": fit.labels_.reshape(self.units.shape),
                "mrf": spatial_kmeans(grid, fit.cluster_centers_)[0],
            }
            self.cache[k] = {
                name: agreement(
                    majority_filter((labels + 1).astype(np.uint8), self.filter_size, k),
                    self.units,
                )["accuracy"]
                for name, labels in maps.items()
            }
        return self.cache[k]


def supervised_accuracy(pixels: np.ndarray, units: np.ndarray, filter_size: int) -> float:
    """Accuracy of a classifier *trained on the true map* (quadratic discriminant analysis on
    log reflectance, every pixel, the same majority filter): how separable the units of a scene
    are at all, a ceiling that no unsupervised map should be expected to reach."""
    from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis

    x = np.log(np.maximum(pixels, log_floor(pixels)))
    qda = QuadraticDiscriminantAnalysis(reg_param=1e-3).fit(x, units.ravel())
    labels = qda.predict(x).reshape(units.shape).astype(np.uint8)
    labels = majority_filter(labels, filter_size, int(units.max()))
    return agreement(labels, units)["accuracy"]


def scenes_bench(
    scenes: list[dict],
    reducers: tuple[str, ...] = REDUCERS,
    k_methods: tuple[str, ...] = K_METHODS,
    k_max: int = 20,
    epochs: int = 30,
    filter_size: int = 7,
    transform: str = DEFAULT_TRANSFORM,
    progress: bool = True,
) -> dict:
    """For each scene and reducer: the k each criterion chooses, and the map's accuracy (after
    the majority filter, optimal label matching) with that k and with the true k, beside the
    scene's supervised ceiling (:func:`supervised_accuracy`). Returns the rows and per reducer
    the share of scenes where each criterion found the true k and the mean accuracies. Each
    criterion judges single pixels (``elbow``) and the means of superpixels of the whole scene
    (``elbow@segments``, :func:`geomap.kselect.segment_means`); ``elbow+spatial`` is the
    pixels' k after the window's map has checked it
    (``GeoMapModel.check_k``), as ``geomap run`` does by default."""
    from tqdm.auto import tqdm

    rows, ceilings = [], {}
    work = [(s, r) for s in scenes for r in reducers]
    for scene, reducer in tqdm(work, desc="scenes × reducers", disable=not progress):
        made = make_scene(
            (scene["size"],) * 2, scene["units"], scene["seed"], scene["noise"],
            scene["mixing"], names=scene.get("names"), spectra=scene.get("spectra"),
        )  # fmt: skip
        image = made.image[BAND_SETS[scene["bands"]]]
        pixels = image.reshape(image.shape[0], -1).T
        if scene["seed"] not in ceilings:
            ceilings[scene["seed"]] = supervised_accuracy(pixels, made.units, filter_size)
        start = time.perf_counter()
        model = GeoMapModel(
            pixels.shape[1], reducer, k=scene["units"], epochs=epochs, transform=transform
        )
        features = model.fit(pixels, progress=False).features(pixels)
        mapped = _MapAccuracy(features, made.units, filter_size)

        row = {
            **{key: value for key, value in scene.items() if key != "spectra"},
            "reducer": reducer,
            "accuracy_supervised": ceilings[scene["seed"]],
            "accuracy_true_k": mapped(scene["units"])["majority"],
            "accuracy_true_k_mrf": mapped(scene["units"])["mrf"],
        }
        valid = np.ones(made.units.shape, bool)
        means = segment_means(features, valid)
        for method in k_methods:
            for name, judged in ((method, features), (f"{method}@segments", means)):
                k = choose_k(judged, k_max, 0, method)["k"]
                row[f"k_{name}"] = k
                row[f"accuracy_{name}"], row[f"accuracy_{name}_mrf"] = mapped(k).values()
                if name == method:  # then checked against the map (units' interiors, edges)
                    k = model.check_k(features, (pixels, valid), k)[0]
                    row[f"k_{name}+spatial"] = k
                    row[f"accuracy_{name}+spatial"], row[f"accuracy_{name}+spatial_mrf"] = mapped(
                        k
                    ).values()
        row["seconds"] = time.perf_counter() - start
        rows.append(row)
    summary = {}
    k_methods = tuple(m + on for m in k_methods for on in ("", "@segments", "+spatial"))
    for reducer in reducers:
        mine = [r for r in rows if r["reducer"] == reducer]
        summary[reducer] = {
            "accuracy_supervised": float(np.mean([r["accuracy_supervised"] for r in mine])),
            "accuracy_true_k": float(np.mean([r["accuracy_true_k"] for r in mine])),
            "accuracy_true_k_mrf": float(np.mean([r["accuracy_true_k_mrf"] for r in mine])),
            **{
                f"true_k_share_{m}": float(np.mean([r[f"k_{m}"] == r["units"] for r in mine]))
                for m in k_methods
            },  # fmt: skip
            **{
                f"accuracy_{m}{c}": float(np.mean([r[f"accuracy_{m}{c}"] for r in mine]))
                for m in k_methods
                for c in ("", "_mrf")
            },  # fmt: skip
            "seconds": float(np.median([r["seconds"] for r in mine])),
        }
    return {"scenes": len(scenes), "set": scenes[0]["set"] if scenes else None, "k_max": k_max, "epochs": epochs, "transform": transform,
            "rows": rows, "summary": summary, "k_methods": list(k_methods)}  # fmt: skip


def format_scenes_bench(result: dict) -> str:
    methods = result["k_methods"]
    lines = [
        f"{result['scenes']} {result.get('set', 'hard')} synthetic scenes, 3-12 units, "
        f"{result.get('transform', 'linear')} bands; share of scenes with the true k found, and "
        "mean accuracy with that k (majority filter; Markov random field, then majority)",
        "| reducer | supervised ceiling | accuracy, true k | "
        + " | ".join(f"{m}: true k / accuracy" for m in methods)
        + " | s / scene |",
        "|---" * (len(methods) + 4) + "|",
    ]
    for reducer, s in result["summary"].items():
        cells = " | ".join(
            f"{s[f'true_k_share_{m}']:.0%} / {s[f'accuracy_{m}']:.3f}; "
            f"{s.get(f'accuracy_{m}_mrf', float('nan')):.3f}"
            for m in methods
        )
        true_k = f"{s['accuracy_true_k']:.3f}; {s.get('accuracy_true_k_mrf', float('nan')):.3f}"
        lines.append(
            f"| {reducer} | {s['accuracy_supervised']:.3f} | {true_k} | {cells} "
            f"| {s['seconds']:.1f} |"
        )
    return "\n".join(lines)
