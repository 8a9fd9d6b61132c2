"""Batch active learning: which unlabelled images experts should label next.

Uncertainty alone picks N near-duplicates (the same ambiguous kind of kernel N times); diversity
alone wastes labels on easy images. The batch is chosen as in uncertainty-then-diversity methods
(e.g. Zhdanov, "Diverse mini-batch Active Learning", arXiv:1901.05954): keep the ``pool_factor·N``
most uncertain images (smallest margin between the two most probable classes), cluster their
penultimate-layer features into N groups with k-means, and take the most uncertain image of each.
"""

from __future__ import annotations

import numpy as np

__all__ = ["margin_uncertainty", "select_batch"]


def margin_uncertainty(probs: np.ndarray) -> np.ndarray:
    """1 − (p₁ − p₂): 1 when the two most probable classes tie, 0 when one class is certain."""
    top = np.sort(probs, axis=1)[:, -2:]
    return 1 - (top[:, 1] - top[:, 0])


def select_batch(
    probs: np.ndarray, features: np.ndarray, budget: int, pool_factor: int = 10, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of ``budget`` distinct images to label (most uncertain first) and their cluster ids.
    ``probs [N, classes]`` and ``features [N, D]`` are the classifier's on the unlabelled images."""
    from sklearn.cluster import KMeans

    n = len(probs)
    if budget < 1:
        raise ValueError(f"budget must be >= 1, got {budget}")
    if pool_factor < 1:
        raise ValueError(f"pool factor must be >= 1, got {pool_factor}")
    uncertainty = margin_uncertainty(probs)
    if budget >= n:
        order = np.argsort(-uncertainty, kind="stable")
        return order, np.arange(n)
    pool = np.argsort(-uncertainty, kind="stable")[: min(n, pool_factor * budget)]
    x = features[pool].astype(np.float64)
    x = (x - x.mean(0)) / (x.std(0) + 1e-8)
    clusters = KMeans(budget, n_init=3, random_state=seed).fit_predict(x)
    chosen, cluster_of = [], []
    for c in range(budget):
        members = pool[clusters == c]
        if len(members):  # pool is sorted by uncertainty, so the first member is the most uncertain
            chosen.append(members[0])
            cluster_of.append(c)
    # k-means can leave a cluster empty on duplicated features: fill up by uncertainty
    for i in pool:
        if len(chosen) == budget:
            break
        if i not in chosen:
            chosen.append(i)
            cluster_of.append(-1)
    chosen, cluster_of = np.array(chosen), np.array(cluster_of)
    order = np.argsort(-uncertainty[chosen], kind="stable")
    return chosen[order], cluster_of[order]
