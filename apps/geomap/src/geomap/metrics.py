"""Map cleaning (majority filter, or a Potts Markov random field) and evaluation: internal indices, and agreement with a
reference geology map after optimal label matching."""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

__all__ = [
    "agreement",
    "agreement_from_table",
    "contingency",
    "internal_indices",
    "majority_filter",
    "potts_icm",
    "spatial_kmeans",
]


def majority_filter(labels: np.ndarray, size: int, k: int) -> np.ndarray:
    """Each labelled pixel takes the most frequent label in its ``size``×``size`` neighbourhood.

    ``labels`` is ``uint8 [H, W]`` with 0 for nodata: nodata pixels stay 0 and do not vote; ties go
    to the lower label. ``size`` 1 leaves the map as it is.
    """
    if size < 1 or size % 2 == 0:
        raise ValueError(f"filter size must be an odd number >= 1, got {size}")
    if size == 1:
        return labels.copy()
    best = np.zeros(labels.shape, np.int32)
    out = np.zeros_like(labels)
    for label in range(1, k + 1):
        # whole vote counts: the box mean times the box area, rounded, so ties are exact
        mean = ndimage.uniform_filter((labels == label).astype(np.float64), size, mode="constant")
        votes = np.rint(mean * size * size).astype(np.int32)
        better = votes > best
        best[better] = votes[better]
        out[better] = label
    out[labels == 0] = 0
    return out


def potts_icm(
    features: np.ndarray,
    centers: np.ndarray,
    labels: np.ndarray,
    beta: float = 4.0,
    size: int = 7,
    iterations: int = 5,
    valid: np.ndarray | None = None,
) -> np.ndarray:
    """Labels ``[H, W]`` (0-based) refined by a Markov random field with a Potts prior, by
    iterated conditional modes: each pixel takes the unit minimising its distance to the unit's
    centre (squared, in units of the clusters' mean within variance, halved: a Gaussian
    log-likelihood) minus ``beta`` times the share of its ``size``×``size`` neighbours in that
    unit. ``beta`` large is the majority filter, 0 the nearest centre. ``features [H, W, d]``,
    ``centers [k, d]``; pixels outside ``valid [H, W]`` neither vote nor change (label -1)."""
    k = len(centers)
    valid = np.ones(labels.shape, bool) if valid is None else valid
    labels = np.where(valid, labels, -1)
    distance = ((features[..., None, :] - centers) ** 2).sum(-1, dtype=np.float32)  # [H, W, k]
    own = np.take_along_axis(distance, np.maximum(labels, 0)[..., None], -1)[..., 0]
    variance = max(float(own[valid].mean()) if valid.any() else 0.0, 1e-12)
    unary = distance / (2 * variance)
    for _ in range(iterations):
        votes = np.stack(
            [ndimage.uniform_filter((labels == u).astype(np.float32), size, mode="nearest")
             for u in range(k)],
            axis=-1,
        )  # fmt: skip
        updated = np.where(valid, np.argmin(unary - beta * votes, axis=-1), -1)
        if np.array_equal(updated, labels):
            break
        labels = updated
    return labels


def spatial_kmeans(
    features: np.ndarray,
    centers: np.ndarray,
    valid: np.ndarray | None = None,
    beta: float = 1.0,
    size: int = 7,
    rounds: int = 8,
) -> tuple[np.ndarray, np.ndarray]:
    """k-means with a Potts prior (a hidden Markov random field fitted by EM with iterated
    conditional modes, Zhang, Brady & Smith 2001): from the nearest-centre labels of ``features
    [H, W, d]``, alternately refine the labels with :func:`potts_icm` (two sweeps) and move each
    centre to the mean of its pixels, ``rounds`` times. Centres move, so a unit that plain
    k-means split by shading or noise can be joined again. Pixels outside ``valid [H, W]`` take
    no part (label -1). Returns (labels ``[H, W]`` 0-based, centres ``[k, d]``)."""
    valid = np.ones(features.shape[:2], bool) if valid is None else valid
    centers = np.asarray(centers, np.float32).copy()
    features = np.asarray(features, np.float32)
    labels = np.argmin(((features[..., None, :] - centers) ** 2).sum(-1), axis=-1)
    for _ in range(rounds):
        labels = potts_icm(features, centers, labels, beta, size, 2, valid)
        for u in range(len(centers)):
            member = labels == u
            if member.any():
                centers[u] = features[member].mean(0)
    return labels, centers


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


def contingency(predicted: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``[256, 256]`` pixel counts of (reference label, predicted label) over uint8 maps; add the
    tables of windows to compare maps too large for memory."""
    for name, labels in (("reference", reference), ("map", predicted)):
        if labels.size and (labels.min() < 0 or labels.max() > 255):
            raise ValueError(f"{name} unit ids must be integers in 0..255")
    pairs = reference.astype(np.int64).ravel() * 256 + predicted.astype(np.int64).ravel()
    return np.bincount(pairs, minlength=256 * 256).reshape(256, 256)


def agreement(predicted: np.ndarray, reference: np.ndarray) -> dict:
    """:func:`agreement_from_table` of two label maps of the same shape."""
    return agreement_from_table(contingency(predicted, reference))


def _pairs(n: np.ndarray) -> float:
    return float((n * (n - 1) / 2).sum())


def agreement_from_table(table: np.ndarray) -> dict:
    """Accuracy after the one-to-one matching of map units to reference units that maximises
    agreement (Hungarian algorithm), Cohen's kappa and each reference unit's F1 under that
    matching, the adjusted Rand index, and the confusion matrix (reference rows, matched predicted
    columns), from a :func:`contingency` table. Label 0 (nodata or unknown) in either map is left
    out. A reference unit left unmatched (more reference units than map units) has F1 0, and the
    pixels of unmatched map units count as errors."""
    table = np.asarray(table, np.int64)[1:, 1:]
    ref_labels = np.flatnonzero(table.sum(axis=1)) + 1
    pred_labels = np.flatnonzero(table.sum(axis=0)) + 1
    if len(ref_labels) == 0:
        raise ValueError("the map and the reference share no labelled pixel")
    cm = table[np.ix_(ref_labels - 1, pred_labels - 1)]
    ri, ci = linear_sum_assignment(-cm)
    n = cm.sum()
    # adjusted Rand index from the contingency table (Hubert and Arabie, 1985)
    index, rows, cols = _pairs(cm), _pairs(cm.sum(axis=1)), _pairs(cm.sum(axis=0))
    expected = rows * cols / (n * (n - 1) / 2) if n > 1 else 0.0
    maximum = (rows + cols) / 2
    ari = 1.0 if maximum == expected else (index - expected) / (maximum - expected)
    order = list(ci) + [c for c in range(len(pred_labels)) if c not in set(ci)]
    accuracy = float(cm[ri, ci].sum() / n)
    # kappa over the matched labelling: chance agreement from the two maps' unit shares
    matched_to = dict(zip(ci, ri))
    pred_share = np.zeros(len(ref_labels))
    for c, count in enumerate(cm.sum(axis=0)):
        if c in matched_to:
            pred_share[matched_to[c]] += count / n
    chance = float((cm.sum(axis=1) / n * pred_share).sum())
    kappa = 1.0 if chance == 1 else (accuracy - chance) / (1 - chance)
    f1 = {}
    for r, label in enumerate(ref_labels):
        c = next((c for c, rr in matched_to.items() if rr == r), None)
        hit = cm[r, c] if c is not None else 0
        denominator = cm[r].sum() + (cm[:, c].sum() if c is not None else 0)
        f1[int(label)] = float(2 * hit / denominator) if denominator else 0.0
    return {
        "accuracy": accuracy,
        "kappa": float(kappa),
        "f1": f1,
        "mean_f1": float(np.mean(list(f1.values()))),
        "adjusted_rand_index": float(ari),
        "pixels": int(n),
        "matching": {int(pred_labels[c]): int(ref_labels[r]) for r, c in zip(ri, ci)},
        "reference_labels": [int(v) for v in ref_labels],
        "predicted_labels": [int(pred_labels[c]) for c in order],
        "confusion": cm[:, order].tolist(),
    }
