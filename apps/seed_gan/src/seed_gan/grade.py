"""Grading a lot: every kernel's class and confidence, the lot's purity with a confidence interval,
counts per class; written as CSV, JSON, a PNG chart and an HTML page."""

from __future__ import annotations

import html
import logging
import os
from pathlib import Path

import numpy as np
import torch

from app_toolkit.files import atomic_write, check_output_dir, write_csv, write_json
from app_toolkit.plots import save_grid
from seed_gan.classifier import SeedClassifier, predict_logits
from seed_gan.confidence import logits_and_statistics, softmax
from seed_gan.data import find_images, load_images, seed_id

__all__ = ["grade_lot", "wilson_interval"]

log = logging.getLogger(__name__)


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (good also near 0 and 1, unlike p ± z·se)."""
    from scipy.stats import norm

    if n == 0:
        return 0.0, 1.0
    z = float(norm.ppf(0.5 + level / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # exact at the ends, where rounding would put p just outside its own interval
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def grade_lot(
    lot_dir: str | os.PathLike,
    model: SeedClassifier,
    out_dir: str | os.PathLike,
    *,
    pure_class: str = "pure",
    level: float = 0.95,
    review_below: float = 0.6,
    device: str = "cpu",
    progress: bool = True,
) -> dict:
    """Grade every kernel photographed in ``lot_dir`` (images in any subfolders; the two views of a
    kernel, ``<id>_top`` and ``<id>_bottom``, are graded together by averaging their class
    probabilities) and write into ``out_dir``: ``seeds.csv``, ``summary.json``, ``summary.png``,
    ``report.html`` and example grids. Unreadable files are reported and left out. Purity is the
    share of kernels graded ``pure_class``, with a Wilson interval at ``level`` (the sampling
    uncertainty of the lot; classifier errors come on top, see the model card's confusion matrix).

    With a calibrated model (``model.confidence``, :mod:`seed_gan.confidence`) the probabilities
    are temperature-scaled, and a kernel whose photographs are unlike the training kernels is
    sent to review with that reason and left out of the purity (``ungraded`` in the summary).
    """
    if pure_class not in model.classes:
        raise ValueError(f"--pure-class {pure_class!r} is not one of the model's {model.classes}")
    if not 0 < level < 1:
        raise ValueError(f"confidence level must be in (0, 1), got {level}")
    lot_dir, out_dir = Path(lot_dir), Path(out_dir)
    check_output_dir(out_dir, [lot_dir])
    files = find_images(lot_dir)
    stems: dict[Path, Path] = {}
    for path in files:
        other = stems.setdefault(path.with_suffix(""), path)
        if other != path:
            raise ValueError(f"{other} and {path} would be graded as one photograph; rename one")
    if not files:
        raise ValueError(f"{lot_dir}: no images found")
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"--out {out_dir} is a file, not a folder")
    images, readable, skipped = load_images(files, model.size, progress=progress)
    if not readable:
        raise ValueError(f"{lot_dir}: none of the {len(files)} images is readable")
    model = model.to(device)
    scaled = images.float() / 127.5 - 1
    confidence = getattr(model, "confidence", None)
    if confidence is not None:
        logits, statistics = logits_and_statistics(model, scaled)
        probs, unlike = confidence.probabilities(logits), confidence.unlike_training(statistics)
    else:
        logits, _ = predict_logits(model, scaled)
        probs, unlike = softmax(logits), np.zeros(len(logits), bool)

    # one row per kernel: views grouped by folder and seed id
    groups: dict[tuple, list[int]] = {}
    for i, path in enumerate(readable):
        key = (str(path.parent.relative_to(lot_dir)), seed_id(path))
        groups.setdefault(key, []).append(i)
    seeds = []
    for (folder, sid), members in groups.items():
        p = probs[members].mean(0)
        k = int(p.argmax())
        ungraded = bool(unlike[members].any())
        reason = (
            "unlike the training kernels" if ungraded
            else f"confidence below {review_below}" if p[k] < review_below
            else ""
        )  # fmt: skip
        seeds.append(
            {
                "seed": sid if folder == "." else f"{folder}/{sid}",
                "files": ";".join(str(readable[i].relative_to(lot_dir)) for i in members),
                "class": model.classes[k],
                "confidence": float(p[k]),
                "review": bool(reason),
                "reason": reason,
                "ungraded": ungraded,
                "probs": p,
                "first": members[0],
            }
        )
    classes = model.classes
    graded = [s for s in seeds if not s["ungraded"]]
    counts = {c: sum(s["class"] == c for s in graded) for c in classes}
    n = len(graded)
    low, high = wilson_interval(counts[pure_class], n, level)
    summary = {
        "lot": str(lot_dir),
        "kernels": len(seeds),
        "graded": n,
        "ungraded": len(seeds) - n,
        "calibrated": confidence is not None,
        "images": len(readable),
        "purity": counts[pure_class] / n if n else None,
        "purity_interval": [low, high],
        "confidence_level": level,
        "counts": counts,
        "percent": {c: 100 * v / n if n else 0.0 for c, v in counts.items()},
        "to_review": sum(s["review"] for s in seeds),
        "review_below": review_below,
        "skipped": skipped,
        "model": {"arch": model.arch, "size": model.size, "classes": classes},
    }

    out_dir.mkdir(parents=True, exist_ok=True)
    _write_csv(out_dir / "seeds.csv", seeds, classes)
    write_json(out_dir / "summary.json", summary)
    _plot_summary(summary, pure_class, out_dir / "summary.png")
    examples = {}
    for c in classes:  # the least confident kernels of each class first: what a grader checks
        members = sorted((s for s in seeds if s["class"] == c), key=lambda s: s["confidence"])
        if members:
            picked = torch.stack([images[s["first"]] for s in members[:16]]).float() / 255
            examples[c] = f"examples_{c}.png"
            save_grid(picked, out_dir / examples[c], nrow=8, upscale=max(1, 96 // model.size))
    _write_html(out_dir / "report.html", summary, pure_class, examples)
    return summary


def _write_csv(path: Path, seeds: list[dict], classes: list[str]) -> None:
    header = ["seed", "files", "class", "confidence", "review", "reason",
              *[f"p_{c}" for c in classes]]  # fmt: skip
    rows = (
        [
            s["seed"],
            s["files"],
            s["class"],
            f"{s['confidence']:.4f}",
            int(s["review"]),
            s["reason"],
            *[f"{v:.4f}" for v in s["probs"]],
        ]
        for s in seeds
    )
    write_csv(path, header, rows)


def _plot_summary(summary: dict, pure_class: str, path: Path) -> None:
    from app_toolkit.plots import pyplot

    plt = pyplot()

    classes = list(summary["counts"])
    fig, ax = plt.subplots(figsize=(6, 3.4))
    colors = ["tab:green" if c == pure_class else "tab:red" for c in classes]
    bars = ax.bar(classes, [summary["counts"][c] for c in classes], color=colors)
    ax.bar_label(bars, [f"{summary['percent'][c]:.1f}%" for c in classes])
    low, high = summary["purity_interval"]
    ax.set_title(
        f"purity {100 * (summary['purity'] or 0):.1f}% "
        f"({100 * summary['confidence_level']:.0f}% CI {100 * low:.1f}–{100 * high:.1f}%), "
        f"{summary['graded']} of {summary['kernels']} kernels graded"
    )
    ax.set_ylabel("kernels")
    ax.margins(y=0.15)
    atomic_write(path, lambda p: fig.savefig(p, dpi=110, bbox_inches="tight", format="png"))
    plt.close(fig)


def _write_html(path: Path, summary: dict, pure_class: str, examples: dict[str, str]) -> None:
    low, high = summary["purity_interval"]
    rows = "".join(
        f"<tr><td>{html.escape(c)}</td><td>{summary['counts'][c]}</td>"
        f"<td>{summary['percent'][c]:.1f}%</td></tr>"
        for c in summary["counts"]
    )
    grids = "".join(
        f"<h3>{html.escape(c)}</h3><img src='{html.escape(f)}' alt='{html.escape(c)}'>"
        for c, f in examples.items()
    )
    skipped = "".join(f"<li>{html.escape(s)}</li>" for s in summary["skipped"])
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>Lot purity: {html.escape(summary["lot"])}</title>
<style>body{{font-family:sans-serif;max-width:960px;margin:2em auto}}
td,th{{padding:2px 10px;text-align:right}}td:first-child{{text-align:left}}</style></head><body>
<h1>Lot {html.escape(Path(summary["lot"]).name)}</h1>
<p><b>Purity ({html.escape(pure_class)}): {100 * (summary["purity"] or 0):.1f}%</b>,
{100 * summary["confidence_level"]:.0f}% interval {100 * low:.1f}–{100 * high:.1f}%
over {summary["graded"]} graded kernels ({summary["images"]} images).
<b>{summary["ungraded"]} of {summary["kernels"]} kernels not graded</b>: their photographs are
unlike the kernels the classifier was trained on.
{summary["to_review"]} kernels (those, and kernels graded with confidence below
{summary["review_below"]}) are marked for review in seeds.csv, with the reason.</p>
<table><tr><th>class</th><th>kernels</th><th>share</th></tr>{rows}</table>
<p><img src="summary.png" alt="counts per class"></p>
<h2>Least confident kernels of each class</h2>{grids}
<h2>Unreadable files ({len(summary["skipped"])})</h2><ul>{skipped or "<li>none</li>"}</ul>
</body></html>
"""
    atomic_write(path, lambda p: Path(p).write_text(page))
