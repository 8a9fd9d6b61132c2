"""Benchmark against HR references: each HR image is reduced (bicubic ×scale, or the Real-ESRGAN
degradation), upscaled by the model, by bicubic and by Lanczos, and compared (PSNR and SSIM, Y and
RGB, with a border of ``scale`` pixels left out as is customary, and the detail ratio); plus
parameter counts and seconds per image, and a side-by-side PNG of crops."""

from __future__ import annotations

import os
import time
from pathlib import Path
from statistics import median

import numpy as np
from torch import nn

from affine_sr.degradations import bicubic_downscale, bicubic_upscale, degrade, lanczos_upscale
from affine_sr.metrics import detail_ratio, psnr, ssim
from affine_sr.model import AffineSR
from affine_sr.pipeline import upscale_image

__all__ = ["COLUMNS", "METHODS", "evaluate", "parameter_counts", "side_by_side"]

COLUMNS = [
    "image",
    "method",
    "psnr_y",
    "ssim_y",
    "psnr_rgb",
    "ssim_rgb",
    "detail",
    "seconds",
]
METHODS = ("bicubic", "lanczos", "affine-sr")


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


def _scores(out: np.ndarray, hr: np.ndarray, crop: int) -> dict[str, float]:
    return {
        "psnr_y": psnr(out, hr, True, crop),
        "ssim_y": ssim(out, hr, True, crop),
        "psnr_rgb": psnr(out, hr, False, crop),
        "ssim_rgb": ssim(out, hr, False, crop),
        "detail": detail_ratio(out, hr, crop),
    }


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
    degradation: str = "bicubic",
    seed: int = 0,
    crop_size: int = 128,
    progress: bool = True,
    **options,
) -> tuple[list[dict], dict, list[tuple[str, np.ndarray]]]:
    """Score the model and bicubic on each HR reference (``name -> uint8 [H, W, 3]``).
    Returns the rows (one per image and method, :data:`COLUMNS`), a summary (means, median
    seconds, parameter counts, PSNR gain over bicubic) and the panels for :func:`side_by_side`.
    ``options`` go to :func:`upscale_image`."""
    from tqdm.auto import tqdm

    if degradation not in ("bicubic", "realesrgan"):
        raise ValueError(f"degradation must be bicubic or realesrgan, got {degradation!r}")
    rows, panels = [], []
    for k, (name, hr) in enumerate(tqdm(references.items(), desc="evaluate", disable=not progress)):
        h, w = (s - s % scale for s in hr.shape[:2])
        hr = hr[:h, :w]
        if degradation == "bicubic":
            lr = bicubic_downscale(hr, scale)
        else:
            lr = degrade(hr, scale, np.random.default_rng((seed, k)))
        start = time.perf_counter()
        bicubic = bicubic_upscale(lr, scale)
        bicubic_seconds = time.perf_counter() - start
        start = time.perf_counter()
        lanczos = lanczos_upscale(lr, scale)
        lanczos_seconds = time.perf_counter() - start
        start = time.perf_counter()
        ours = upscale_image(model, lr, scale, seed=seed, **options)
        seconds = time.perf_counter() - start
        for method, out, secs in (
            ("bicubic", bicubic, bicubic_seconds),
            ("lanczos", lanczos, lanczos_seconds),
            ("affine-sr", ours, seconds),
        ):
            rows.append(
                {"image": name, "method": method, **_scores(out, hr, scale), "seconds": secs}
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
    summary = {"images": len(references), "scale": scale, "degradation": degradation}
    for method in METHODS:
        mine = [r for r in rows if r["method"] == method]
        summary[method] = {c: float(np.mean([r[c] for r in mine])) for c in COLUMNS[2:7]}
        summary[method]["median_seconds"] = median(r["seconds"] for r in mine)
    summary["psnr_y_gain"] = summary["affine-sr"]["psnr_y"] - summary["bicubic"]["psnr_y"]
    psnr_y = {(r["image"], r["method"]): r["psnr_y"] for r in rows}
    summary["beats_lanczos_on"] = sum(
        psnr_y[name, "affine-sr"] > psnr_y[name, "lanczos"] for name in references
    )
    summary["parameters"] = parameter_counts(model)
    summary["options"] = {"seed": seed, **options}
    return rows, summary, panels
