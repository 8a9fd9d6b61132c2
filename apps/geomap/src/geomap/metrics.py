"""Map cleaning (majority filter) and evaluation: internal indices, and agreement with a
reference geology map after optimal label matching."""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    confusion_matrix,
    davies_bouldin_score,
)

__all__ = ["agreement", "internal_indices", "majority_filter"]


def majority_filter(labels: np.ndarray, size: int, k: int) -> np.ndarray:
    """Each labelled pixel takes the most frequent label in its ``size``×``size`` neighbourhood.

    ``labels`` is ``uint8 [H, W]`` with 0 for nodata: nodata pixels stay 0 and do not vote; ties go
    to the lower label. ``size`` 1 leaves the map as it is.
    """
    if size < 1 or size % 2 == 0:
        raise ValueError(f"filter size must be an odd number >= 1, got {size}")
    if size == 1:
        return labels.copy()
    best = np.zeros(labels.shape, np.float32)
    out = np.zeros_like(labels)
    for label in range(1, k + 1):
        votes = ndimage.uniform_filter((labels == label).astype(np.float32), size, mode="constant")
        better = votes > best + 1e-6
        best[better] = votes[better]
        out[better] = label
    out[labels == 0] = 0
    return out


def internal_indices(features: np.ndarray, labels: np.ndarray, max_pixels: int = 50_000, seed=0):
    """Calinski–Harabasz (higher is better) and Davies–Bouldin (lower is better) on a sample."""
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(features))[:max_pixels]
    f, lab = features[idx], labels[idx]
    if len(np.unique(lab)) < 2:
        return {"calinski_harabasz": None, "davies_bouldin": None}
    return {
        "calinski_harabasz": float(calinski_harabasz_score(f, lab)),
        "davies_bouldin": float(davies_bouldin_score(f, lab)),
    }


def agreement(predicted: np.ndarray, reference: np.ndarray) -> dict:
    """Accuracy after the one-to-one matching of map units to reference units that maximises
    agreement (Hungarian algorithm), the adjusted Rand index, and the confusion matrix (reference
    rows, matched predicted columns). Pixels that are 0 in either map are left out."""
    valid = (predicted > 0) & (reference > 0)
    if not valid.any():
        raise ValueError("the map and the reference share no labelled pixel")
    p, r = predicted[valid].astype(int), reference[valid].astype(int)
    ref_labels, pred_labels = np.unique(r), np.unique(p)
    cm = confusion_matrix(r, p, labels=None)
    # rows: reference labels present; columns: predicted labels present (sorted union order)
    union = np.union1d(ref_labels, pred_labels)
    rows = np.searchsorted(union, ref_labels)
    cols = np.searchsorted(union, pred_labels)
    cm = cm[np.ix_(rows, cols)]
    ri, ci = linear_sum_assignment(-cm)
    matching = {int(pred_labels[c]): int(ref_labels[r_]) for r_, c in zip(ri, ci)}
    order = list(ci) + [c for c in range(len(pred_labels)) if c not in set(ci)]
    return {
        "accuracy": float(cm[ri, ci].sum() / cm.sum()),
        "adjusted_rand_index": float(adjusted_rand_score(r, p)),
        "pixels": int(valid.sum()),
        "matching": matching,
        "reference_labels": [int(v) for v in ref_labels],
        "predicted_labels": [int(pred_labels[c]) for c in order],
        "confusion": cm[:, order].tolist(),
    }
