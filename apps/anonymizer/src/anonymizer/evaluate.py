"""What a released dataset is judged on, measured on the pixels: is every face and plate that
must go actually changed, and is anything else (lettering, signs) left alone?

For each image with truth boxes: a true region counts as replaced when at least 70% of its
pixels changed; collateral is the share of the image's pixels changed farther than a margin
(half the region's size, for box growth and feathering) from every true region. The measure
reads only the input and output images, so any tool's outputs can be scored the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from anonymizer.detections import LABELS
from anonymizer.verify import COVERED, load_truth
from app_toolkit.media import MediaError, read_image

__all__ = ["COLLATERAL_LIMIT", "score_image", "score_outputs"]

CHANGED = 8  # a pixel changed when a channel moved by more than this (JPEG noise stays below)
MARGIN = 0.5  # of a region's larger side, around it, where changes are not collateral
COLLATERAL_LIMIT = 0.001  # 0.1% of an image's pixels


def score_image(before: np.ndarray, after: np.ndarray, truth: list[dict]) -> dict:
    """Per class the number of true regions and of replaced ones, and the collateral share."""
    if before.shape != after.shape:
        raise ValueError(f"output is {after.shape[:2]}, input {before.shape[:2]}")
    changed = (np.abs(before.astype(np.int16) - after.astype(np.int16)) > CHANGED).any(axis=2)
    height, width = changed.shape
    near = np.zeros_like(changed)
    result = {label: {"true": 0, "replaced": 0} for label in LABELS}
    for region in truth:
        x0, y0, x1, y1 = (int(v) for v in region["box"])
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
        if x1 <= x0 or y1 <= y0:
            continue
        stats = result[region["label"]]
        stats["true"] += 1
        stats["replaced"] += bool(changed[y0:y1, x0:x1].mean() >= COVERED)
        m = int(MARGIN * max(x1 - x0, y1 - y0))
        near[max(0, y0 - m) : y1 + m, max(0, x0 - m) : x1 + m] = True
    result["collateral"] = float((changed & ~near).mean())
    return result


def score_outputs(
    data_dir: str | os.PathLike,
    truth: str | os.PathLike,
    output_of,
) -> dict:
    """Score every image of the ``truth`` file: ``output_of(rel)`` gives the path of the tool's
    output for the input ``data_dir/rel``. Returns per-image rows and a summary (recall per
    class, the largest and mean collateral, images over :data:`COLLATERAL_LIMIT`)."""
    rows = []
    for rel, boxes in load_truth(truth).items():
        if boxes and isinstance(boxes[0], list):
            continue  # videos: scored by `anonymize verify --truth`
        try:
            before = read_image(Path(data_dir) / rel)[0]
            after = read_image(output_of(rel))[0]
        except (MediaError, FileNotFoundError) as err:
            rows.append({"file": rel, "error": str(err)})
            continue
        rows.append({"file": rel, **score_image(before, after, boxes)})
    scored = [r for r in rows if "error" not in r]
    summary: dict = {"images": len(scored), "errors": len(rows) - len(scored)}
    for label in LABELS:
        true = sum(r[label]["true"] for r in scored)
        replaced = sum(r[label]["replaced"] for r in scored)
        summary[label] = {
            "true": true,
            "replaced": replaced,
            "recall": replaced / true if true else None,
        }
    collateral = [r["collateral"] for r in scored]
    summary["collateral_max"] = max(collateral, default=0.0)
    summary["collateral_mean"] = float(np.mean(collateral)) if collateral else 0.0
    summary["images_over_limit"] = sum(c > COLLATERAL_LIMIT for c in collateral)
    return {"summary": summary, "images": rows}
