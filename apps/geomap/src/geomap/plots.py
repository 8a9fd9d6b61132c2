"""Pictures people look at: the unit map with a legend, the k-selection criterion, the confusion matrix and
an RGB quick-look of the scene."""

from __future__ import annotations

import os

import numpy as np

from app_toolkit.plots import pyplot

__all__ = ["plot_confusion", "plot_k_choice", "plot_map", "plot_rgb", "unit_colors"]


def unit_colors(k: int) -> np.ndarray:
    """``[k + 1, 4]`` RGBA colours: transparent white for nodata, then one colour per unit."""
    base = pyplot().get_cmap("tab20" if k > 10 else "tab10")
    colors = [base(i % base.N) for i in range(k)]
    return np.array([(1, 1, 1, 0), *colors])


def _save(fig, path) -> None:
    from app_toolkit.files import atomic_write

    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png"))
    pyplot().close(fig)


def plot_map(
    labels: np.ndarray,
    k: int,
    path: str | os.PathLike,
    title: str = "",
    names: dict[int, str] | None = None,
) -> None:
    """Colour map of unit labels (0 = nodata, left blank) with a legend."""
    plt = pyplot()
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    height, width = labels.shape
    fig, ax = plt.subplots(figsize=(7, 7 * height / width + 0.6))
    ax.imshow(labels, cmap=ListedColormap(unit_colors(k)), vmin=0, vmax=k, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title)
    counts = np.bincount(labels.ravel(), minlength=k + 1)
    handles = [
        Patch(
            color=unit_colors(k)[u],
            label=f"{(names or {}).get(u, f'unit {u}')} "
            f"({100 * counts[u] / max(1, counts[1:].sum()):.1f}%)",
        )
        for u in range(1, k + 1)
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    _save(fig, path)


def plot_k_choice(choice: dict, path: str | os.PathLike) -> None:
    """The criterion curve that chose k (left) and the k-means inertia (right), chosen k and
    runner-up marked."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, values, label in (
        (left, choice["curve"], choice["curve_label"]),
        (right, choice["inertia"], "k-means inertia"),
    ):
        # None: no value at that k (demp's curve stops at the mixture's number of components)
        ax.plot(choice["ks"], [np.nan if v is None else v for v in values], "o-")
        criterion_k = choice.get("k_criterion", choice["k"])
        ax.axvline(criterion_k, color="C3", ls="--", label=f"{choice['method']}: k = {criterion_k}")
        if criterion_k != choice["k"]:
            ax.axvline(
                choice["k"], color="C2", ls="-", label=f"after the map check: k = {choice['k']}"
            )
        ax.axvline(
            choice["runner_up"], color="C7", ls=":", label=f"runner-up: {choice['runner_up']}"
        )
        ax.set_xlabel("number of units k")
        ax.set_ylabel(label, fontsize=8)
        ax.grid(alpha=0.3)
    left.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)


def plot_confusion(result: dict, path: str | os.PathLike) -> None:
    """Confusion matrix of :func:`geomap.metrics.agreement`, rows normalised."""
    from app_toolkit.plots import plot_confusion_matrix

    plot_confusion_matrix(
        result["confusion"],
        path,
        rows=[f"ref {r} (F1 {result['f1'][r]:.2f})" for r in result["reference_labels"]],
        columns=[f"u{p}" for p in result["predicted_labels"]],
        title=f"accuracy {result['accuracy']:.3f}, κ {result['kappa']:.3f}, "
        f"ARI {result['adjusted_rand_index']:.3f}",
        xlabel="map unit (matched order)",
    )


def plot_rgb(image: np.ndarray, rgb: tuple[int, int, int], path: str | os.PathLike) -> None:
    """Quick-look of bands ``rgb`` (0-based) of ``image [bands, H, W]``, 2–98% stretched."""
    planes = np.stack([image[b] for b in rgb], axis=-1).astype(np.float32)
    finite = np.isfinite(planes)
    lo, hi = np.nanpercentile(np.where(finite, planes, np.nan), [2, 98], axis=(0, 1))
    out = np.clip((np.nan_to_num(planes) - lo) / np.maximum(hi - lo, 1e-9), 0, 1)
    height, width = out.shape[:2]
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 7 * height / width))
    ax.imshow(out)
    ax.set_axis_off()
    _save(fig, path)
