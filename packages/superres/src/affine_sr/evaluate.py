"""Benchmark against HR references: each HR image is reduced (bicubic ×scale, that saved as JPEG,
or the Real-ESRGAN degradation), upscaled by the model, by bicubic and by Lanczos, and compared
(PSNR and SSIM, Y and RGB, with a border of ``scale`` pixels left out as is customary, the detail
ratio, GMSD, and the no-reference NIQE of the output alone); plus parameter counts and seconds per
image, and a side-by-side PNG of crops."""

from __future__ import annotations

import os
import time
from pathlib import Path
from statistics import median

import numpy as np
from torch import nn

from affine_sr.constants import DEGRADATIONS, LR_KINDS, REAL_QUALITY
from affine_sr.deblock import ijg_table
from affine_sr.degradations import (
    bicubic_downscale,
    bicubic_upscale,
    degrade,
    jpeg,
    lanczos_upscale,
)
from affine_sr.metrics import detail_ratio, gmsd, niqe, psnr, ssim
from affine_sr.model import AffineSR
from affine_sr.niqe import PATCH
from affine_sr.pipeline import upscale_image

__all__ = [
    "COLUMNS",
    "LR_KINDS",
    "METHODS",
    "METRICS",
    "evaluate",
    "low_resolution",
    "parameter_counts",
    "scores",
    "side_by_side",
]

COLUMNS = [
    "image",
    "method",
    "psnr_y",
    "ssim_y",
    "psnr_rgb",
    "ssim_rgb",
    "detail",
    "gmsd",
    "niqe",
    "seconds",
]
METRICS = COLUMNS[2:-1]
METHODS = ("bicubic", "lanczos", "affine-sr")


def low_resolution(
    hr: np.ndarray, scale: int, kind: str, rng: np.random.Generator, quality: int = 70
) -> np.ndarray:
    """The input for ``hr``: its antialiased bicubic reduction (``bicubic``), that saved as JPEG
    at ``quality`` (``jpeg``: a photograph as it comes from the web), or the second-order
    Real-ESRGAN degradation (``realesrgan``)."""
    if kind not in LR_KINDS:
        raise ValueError(f"LR kind must be one of {', '.join(LR_KINDS)}, got {kind!r}")
    if kind == "realesrgan":
        return degrade(hr, scale, rng)
    lr = bicubic_downscale(hr, scale)
    return jpeg(lr, quality) if kind == "jpeg" else lr


def parameter_counts(model: AffineSR) -> dict[str, int]:
    """Parameters per component and in all."""

    def count(module: nn.Module) -> int:
        return sum(p.numel() for p in module.parameters())

    counts = {
        "autoencoder": count(model.autoencoder),
        "unet": count(model.unet),
        "encoder": count(model.encoder),
        "sft": count(model.sfts),
    }
    if model.refiner is not None:
        counts["refiner"] = count(model.refiner)
    counts["total"] = sum(counts.values())
    return counts


def scores(out: np.ndarray, hr: np.ndarray, crop: int) -> dict[str, float]:
    """Every metric of :data:`METRICS` for ``out`` against ``hr``, ``crop`` border pixels left
    out (NIQE, which needs no reference, on ``out`` alone; NaN below its patch size)."""
    return {
        "psnr_y": psnr(out, hr, True, crop),
        "ssim_y": ssim(out, hr, True, crop),
        "psnr_rgb": psnr(out, hr, False, crop),
        "ssim_rgb": ssim(out, hr, False, crop),
        "detail": detail_ratio(out, hr, crop),
        "gmsd": gmsd(out, hr, crop),
        "niqe": _niqe(out[crop : out.shape[0] - crop, crop : out.shape[1] - crop]),
    }


def _niqe(image: np.ndarray) -> float:
    """NIQE, or NaN for an image smaller than its patch (left out of the means)."""
    return niqe(image) if min(image.shape[:2]) >= PATCH else float("nan")


def nan_mean(values: list[float]) -> float | None:
    """The mean of the values that are not NaN (NIQE of images below its patch size), or None if
    there are none (JSON has no NaN)."""
    kept = [v for v in values if not np.isnan(v)]
    return float(np.mean(kept)) if kept else None


def _crop(image: np.ndarray, box: tuple[int, int, int]) -> np.ndarray:
    y, x, size = box
    return image[y : y + size, x : x + size]


def side_by_side(
    panels: list[tuple[str, np.ndarray]], path: str | os.PathLike, columns: int = 4
) -> Path:
    """Titled images, ``columns`` per row (here: the same crop of LR (nearest), bicubic, the
    model and HR for each image), as a PNG."""
    from app_toolkit.plots import pyplot

    plt = pyplot()

    from app_toolkit.files import atomic_write

    rows = [panels[i : i + columns] for i in range(0, len(panels), columns)]
    fig, axes = plt.subplots(
        len(rows), columns, figsize=(columns * 2.6, len(rows) * 2.8), squeeze=False
    )
    for row, items in zip(axes, rows):
        for ax, (title, image) in zip(row, items):
            ax.imshow(image, interpolation="nearest")
            ax.set_title(title, fontsize=8)
            ax.axis("off")
    fig.tight_layout()
    atomic_write(Path(path), lambda p: fig.savefig(p, format="png", dpi=100))
    plt.close(fig)
    return Path(path)


def evaluate(
    model: AffineSR,
    references: dict[str, np.ndarray],
    scale: int = 4,
    lr_kind: str = "bicubic",
    seed: int = 0,
    crop_size: int = 128,
    jpeg_quality: int = 70,
    progress: bool = True,
    degradation: str = "auto",
    **options,
) -> tuple[list[dict], dict, list[tuple[str, np.ndarray]]]:
    """Score the model and bicubic on each HR reference (``name -> uint8 [H, W, 3]``).
    Returns the rows (one per image and method, :data:`COLUMNS`), a summary (means, median
    seconds, parameter counts, PSNR gain over bicubic) and the panels for :func:`side_by_side`.
    ``degradation`` as for `affine-sr upscale`: the JPEG inputs carry the table of
    ``jpeg_quality`` (deblocked unless ``clean``), the others none (deblocked only if ``real``,
    which also denoises every input first).
    ``options`` go to :func:`upscale_image`."""
    from tqdm.auto import tqdm

    if lr_kind not in LR_KINDS:
        raise ValueError(f"LR kind must be one of {', '.join(LR_KINDS)}, got {lr_kind!r}")
    if degradation not in DEGRADATIONS:
        raise ValueError(
            f"degradation must be one of {', '.join(DEGRADATIONS)}, got {degradation!r}"
        )
    table = None
    if degradation != "clean" and lr_kind == "jpeg":
        table = ijg_table(jpeg_quality)  # what the JPEG file would carry (libjpeg's scaling)
    elif degradation == "real":
        table = ijg_table(REAL_QUALITY)
    rows, panels = [], []
    for k, (name, hr) in enumerate(tqdm(references.items(), desc="evaluate", disable=not progress)):
        h, w = (s - s % scale for s in hr.shape[:2])
        hr = hr[:h, :w]
        lr = low_resolution(hr, scale, lr_kind, np.random.default_rng((seed, k)), jpeg_quality)
        start = time.perf_counter()
        bicubic = bicubic_upscale(lr, scale)
        bicubic_seconds = time.perf_counter() - start
        start = time.perf_counter()
        lanczos = lanczos_upscale(lr, scale)
        lanczos_seconds = time.perf_counter() - start
        start = time.perf_counter()
        noisy = degradation == "real"
        ours = upscale_image(
            model, lr, scale, seed=seed, jpeg_table=table, clean_noise=noisy, **options
        )
        seconds = time.perf_counter() - start
        for method, out, secs in (
            ("bicubic", bicubic, bicubic_seconds),
            ("lanczos", lanczos, lanczos_seconds),
            ("affine-sr", ours, seconds),
        ):
            rows.append(
                {"image": name, "method": method, **scores(out, hr, scale), "seconds": secs}
            )
        # the crop with the most detail (largest bicubic error) shows the difference best
        size = min(crop_size, h, w)
        error = np.abs(bicubic.astype(np.float32) - hr).mean(-1)
        step = max(1, size // 4)
        best = max(
            ((y, x) for y in range(0, h - size + 1, step) for x in range(0, w - size + 1, step)),
            key=lambda p: error[p[0] : p[0] + size, p[1] : p[1] + size].mean(),
        )
        box = (*best, size)
        low = np.repeat(np.repeat(lr, scale, 0), scale, 1)
        ours_row, bic_row = rows[-1], rows[-3]
        panels += [
            (f"{name}: input ×{scale} (nearest)", _crop(low, box)),
            (f"bicubic {bic_row['psnr_y']:.2f} dB", _crop(bicubic, box)),
            (f"affine-sr {ours_row['psnr_y']:.2f} dB", _crop(ours, box)),
            ("reference", _crop(hr, box)),
        ]
    summary = {"images": len(references), "scale": scale, "lr": lr_kind, "degradation": degradation}
    if lr_kind == "jpeg":
        summary["jpeg_quality"] = jpeg_quality
    for method in METHODS:
        mine = [r for r in rows if r["method"] == method]
        summary[method] = {c: nan_mean([r[c] for r in mine]) for c in METRICS}
        summary[method]["median_seconds"] = median(r["seconds"] for r in mine)
    summary["psnr_y_gain"] = summary["affine-sr"]["psnr_y"] - summary["bicubic"]["psnr_y"]
    psnr_y = {(r["image"], r["method"]): r["psnr_y"] for r in rows}
    summary["beats_lanczos_on"] = sum(
        psnr_y[name, "affine-sr"] > psnr_y[name, "lanczos"] for name in references
    )
    summary["parameters"] = parameter_counts(model)
    summary["options"] = {"seed": seed, **options}
    return rows, summary, panels
