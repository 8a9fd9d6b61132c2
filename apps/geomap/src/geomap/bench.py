"""Accuracy and speed of each reducer on a synthetic scene with a known unit map."""

from __future__ import annotations

import os
from pathlib import Path

from app_toolkit.devices import environment, resolve_device
from geomap.model import REDUCERS
from geomap.pipeline import map_raster
from geomap.synth import make_scene, write_scene

__all__ = ["bench", "format_bench"]


def bench(
    out_dir: str | os.PathLike,
    *,
    reducers: tuple[str, ...] = REDUCERS[::-1],
    size: tuple[int, int] = (512, 512),
    units: int = 6,
    k: int | None = None,
    epochs: int = 30,
    seed: int = 0,
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
        "rows": rows,
        "environment": environment(resolve_device(device)),
    }


def format_bench(result: dict) -> str:
    h, w = result["size"]
    k = result["k"] or "elbow"
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
