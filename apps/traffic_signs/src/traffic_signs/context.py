"""The missing-sign classifier: from a whole frame, which warning sign the road's context calls for
(left-hand curve, right-hand curve, gap in median, side road left) or none."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from traffic_signs.signs import CONTEXT_CATEGORIES, MISSING_CLASSES
from traffic_signs.yolo import load_yolo

__all__ = ["evaluate_context", "load_context", "predict_context"]


def load_context(weights: str | os.PathLike = "default"):
    """The scene-context classifier: ``default`` (shipped), a saved folder, a ``.pt`` or a YAML."""
    model = load_yolo(weights, "classify", "context")
    unknown = set(model.model.names.values()) - set(MISSING_CLASSES)
    if unknown:
        raise ValueError(
            f"{weights}: classes {sorted(unknown)} are not context categories {MISSING_CLASSES}"
        )
    return model


def predict_context(
    model, frames: list[np.ndarray], device: str = "cpu", batch: int = 32
) -> np.ndarray:
    """Probabilities ``[N, len(MISSING_CLASSES)]`` (columns in ``MISSING_CLASSES`` order) for RGB
    frames."""
    names = model.model.names
    column = [MISSING_CLASSES.index(names[i]) for i in range(len(names))]
    out = np.zeros((len(frames), len(MISSING_CLASSES)), np.float32)
    for start in range(0, len(frames), batch):
        chunk = [np.ascontiguousarray(f[..., ::-1]) for f in frames[start : start + batch]]
        results = model.predict(chunk, device=device, verbose=False)
        for i, r in enumerate(results):
            out[start + i, column] = r.probs.data.cpu().numpy()
    return out


def evaluate_context(model, folder: str | os.PathLike, device: str = "cpu") -> dict:
    """Top-1 accuracy on ``folder/<class>/*.png`` (as written by ``write_missing_set``): overall,
    on inpainted and on truly absent scenes (by file-name prefix), on the four sign categories
    only, per class, and the confusion matrix (rows: true class, columns: ``MISSING_CLASSES``)."""
    from app_toolkit.media import read_image

    folder = Path(folder)
    files = sorted(
        (p, c) for c in MISSING_CLASSES if (folder / c).is_dir() for p in (folder / c).glob("*.png")
    )
    if not files:
        raise ValueError(f"{folder}: no class subfolders named {MISSING_CLASSES} with PNG scenes")
    frames = [read_image(p)[0] for p, _ in files]
    pred = predict_context(model, frames, device).argmax(1)
    truth = np.array([MISSING_CLASSES.index(c) for _, c in files])
    how = np.array([p.name.split("_")[0] for p, _ in files])
    right = pred == truth
    context = truth < len(CONTEXT_CATEGORIES)
    confusion = np.zeros((len(MISSING_CLASSES),) * 2, int)
    np.add.at(confusion, (truth, pred), 1)

    def share(mask):
        return float(right[mask].mean()) if mask.any() else float("nan")

    return {
        "images": len(files),
        "top1": share(np.ones_like(right)),
        "top1_inpainted": share(how == "inpainted"),
        "top1_absent": share((how == "absent") & context),
        "top1_context": share(context),
        "per_class": {c: share(truth == i) for i, c in enumerate(MISSING_CLASSES)},
        "classes": list(MISSING_CLASSES),
        "confusion": confusion.tolist(),
    }
