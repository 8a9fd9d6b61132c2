"""What a released dataset is judged on, measured on the pixels: is every face and plate that
must go actually changed, and is anything else (lettering, signs) left alone?

For each image with truth boxes: a true region counts as replaced when at least 70% of its
pixels changed; collateral is the share of the image's pixels changed farther than a margin
(half the region's size, for box growth and feathering) from every true region. The measure
reads only the input and output images, so any tool's outputs can be scored the same way.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from anonymizer.detections import LABELS
from anonymizer.verify import COVERED, load_truth
from app_toolkit.media import MediaError, read_image

__all__ = ["COLLATERAL_LIMIT", "check_truth", "score_image", "score_outputs"]

CHANGED = 8  # a pixel changed when a channel moved by more than this (JPEG noise stays below)
MARGIN = 0.5  # of a region's larger side, around it, where changes are not collateral
COLLATERAL_LIMIT = 0.001  # 0.1% of an image's pixels


def score_image(before: np.ndarray, after: np.ndarray, truth: list[dict]) -> dict:
    """Per class the number of true regions and of replaced ones, and the collateral share.
    A true box reaching past the image is clipped to it (listed under ``clipped``); one wholly
    outside raises ``ValueError``: a region that cannot be scored is never silently dropped."""
    if before.shape != after.shape:
        raise ValueError(f"output is {after.shape[:2]}, input {before.shape[:2]}")
    changed = (np.abs(before.astype(np.int16) - after.astype(np.int16)) > CHANGED).any(axis=2)
    height, width = changed.shape
    near = np.zeros_like(changed)
    result = {label: {"true": 0, "replaced": 0} for label in LABELS}
    clipped = []
    for index, region in enumerate(truth):
        x0, y0, x1, y1 = region["box"]  # whole pixels, outwards (as check_truth judges them)
        box = [math.floor(x0), math.floor(y0), math.ceil(x1), math.ceil(y1)]
        x0, y0, x1, y1 = max(0, box[0]), max(0, box[1]), min(width, box[2]), min(height, box[3])
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"truth box {index} {box} lies outside the {width}×{height} image")
        if [x0, y0, x1, y1] != box:
            clipped.append(index)
        stats = result[region["label"]]
        stats["true"] += 1
        stats["replaced"] += bool(changed[y0:y1, x0:x1].mean() >= COVERED)
        m = int(MARGIN * max(x1 - x0, y1 - y0))
        near[max(0, y0 - m) : y1 + m, max(0, x0 - m) : x1 + m] = True
    result["collateral"] = float((changed & ~near).mean())
    result["clipped"] = clipped
    return result


def check_truth(data_dir: str | os.PathLike, truth: dict) -> dict:
    """Check a loaded truth file against the images of ``data_dir`` before any work: a box wholly
    outside its image raises ``ValueError`` (file, image, box); returns ``{"missing": names
    absent from DATA, "clipped": ["image box i", ...] for boxes reaching past their image}``."""
    from PIL import Image, UnidentifiedImageError

    if truth and all(boxes and isinstance(boxes[0], list) for boxes in truth.values()):
        raise ValueError("lists videos only; score videos with `anonymize verify OUT --truth`")
    missing, clipped = [], []
    for rel, boxes in truth.items():
        path = Path(data_dir) / rel
        if not path.is_file():
            missing.append(rel)
            continue
        if boxes and isinstance(boxes[0], list):
            continue  # videos
        try:
            with Image.open(path) as img:
                width, height = img.size
                if img.getexif().get(0x0112, 1) in (5, 6, 7, 8):  # read rotated by 90°
                    width, height = height, width
        except (OSError, UnidentifiedImageError):
            continue  # reported when the run skips it
        for index, region in enumerate(boxes):
            x0, y0, x1, y1 = region["box"]
            if x1 <= 0 or y1 <= 0 or x0 >= width or y0 >= height:
                raise ValueError(
                    f"{rel}: truth box {index} {region['box']} lies outside the "
                    f"{width}×{height} image"
                )
            if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
                clipped.append(f"{rel} box {index}")
    return {"missing": missing, "clipped": clipped}


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
        if not (Path(data_dir) / rel).is_file():
            rows.append({"file": rel, "error": "not in DATA", "missing": True})
            continue
        try:
            before = read_image(Path(data_dir) / rel)[0]
            after = read_image(output_of(rel))[0]
            rows.append({"file": rel, **score_image(before, after, boxes)})
        except (MediaError, OSError, ValueError) as err:
            rows.append({"file": rel, "error": str(err)})
    scored = [r for r in rows if "error" not in r]
    summary: dict = {
        "images": len(scored),
        "errors": len(rows) - len(scored),
        "missing": [r["file"] for r in rows if r.get("missing")],
        "clipped_boxes": sum(len(r["clipped"]) for r in scored),
    }
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
