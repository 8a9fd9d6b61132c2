"""Choosing the number of units k from the features alone: four model-selection criteria over
k-means (or Gaussian-mixture) fits for k = 2..k_max on a pixel sample.

- ``silhouette``: the mean silhouette width of the k-means labels (Rousseeuw 1987), highest wins.
- ``bic``: the Bayesian information criterion of a full-covariance Gaussian mixture started
  from the k-means fit (Schwarz 1978), lowest wins.
- ``gap``: the gap statistic (Tibshirani, Walther & Hastie 2001): log inertia of the data
  against that of uniform reference sets in the data's principal-axes box; the smallest k with
  gap(k) ≥ gap(k+1) − s(k+1).
- ``elbow``: the knee of the inertia curve (kneed, Satopää et al. 2011), the paper's method.
- ``demp``: the Gaussian mixture of lowest BIC (which over-counts: a unit that is not one
  Gaussian takes several components), its components then merged while two clusters would
  misclassify more than :data:`DEMP_THRESHOLD` of each other's points (Hennig 2010, "Methods for
  merging Gaussian mixture components", the DEMP criterion).

Judged on single pixels, every criterion sees noise and the mixed pixels of contacts as much as
units. :func:`segment_means` gives the criteria spatial evidence instead: the mean features of
superpixels (SLIC on the feature image), which average the noise out while each stays inside one
unit.

Rock units are spatially coherent; the mixed pixels along contacts are not a unit, but a
criterion on single pixels may count them as one. :func:`interior_shares` measures it on a map:
the share of each unit's pixels that keep an interior (a full 5×5 neighbourhood of the same unit)
after the Markov random field and the majority filter; units absent from the window are not
judged. ``GeoMapModel.fit`` lowers k by the units
without one (:data:`MIN_INTERIOR`) and clusters again, until every unit has one; and by one where
two units differ only along the direction in which shading moves a pixel's features and meet
without an edge (:func:`edge_contrast`): one unit under uneven light, which the deshaded bands
keep 30% of.

Every criterion returns the same record: the chosen k, the runner-up, the curve it decided on
and the k-means inertia, so that ``metrics.json`` and the plot can show why.
"""

from __future__ import annotations

import logging

import numpy as np
from sklearn.cluster import KMeans

from geomap.options import K_METHODS

__all__ = [
    "DEMP_THRESHOLD",
    "K_METHODS",
    "MIN_CHECK_PIXELS",
    "MIN_INTERIOR",
    "SEGMENT_PIXELS",
    "choose_k",
    "demp_merge",
    "edge_contrast",
    "interior_shares",
    "segment_means",
]

log = logging.getLogger(__name__)

SAMPLE = (
    5_000  # pixels the criteria look at (enough for up to ~20 units; the final k-means uses all)
)
SILHOUETTE_SAMPLE = 2_500  # silhouette is O(n²)
GAP_REFERENCES = 5
# DEMP's merge threshold, and the interior a unit needs: chosen on tuning scenes of both scene
# sets (seeds 5000-5029, not the benchmark's), where the mean accuracy of the default run was
# highest with 0.15-0.2 (alone, DEMP did best at 0.06-0.08: the interior check then removes what
# it leaves) and an interior share of 0.1 (contact clusters: 0-0.14; units: 0.2-0.9)
DEMP_THRESHOLD = 0.15
MIN_INTERIOR = 0.1
MIN_PRESENCE = 0.005  # a unit with fewer of the window's pixels is not judged there
# two units that differ only as shading moves a pixel (|cos| of their mean difference with the
# shading direction at least SHADING_COS) and meet without an edge (the step across their
# boundary under MIN_EDGE times the same offset's spread inside them) are one unit under
# uneven light: chosen on the tuning scenes, where such splits had cos 0.97-1.0 and edges 2.1-2.9,
# and real contacts edges of 4 or more on all but four scenes (1.8-2.3); 0.9-0.97 and 3-4 measured
# the same
SHADING_COS = 0.95
MIN_EDGE = 3.0
EDGE_OFFSET = 6  # pixels between the two samples of a step (wider than a contact's mixing)
MIN_CHECK_PIXELS = 1_000  # valid pixels a window needs for k to be checked against its map
INTERIOR_SIZE = 5  # the neighbourhood that makes a pixel interior
SEGMENT_PIXELS = 40  # mean superpixel size of segment_means


def segment_means(
    features: np.ndarray, valid: np.ndarray, pixels_per_segment: int = SEGMENT_PIXELS
) -> np.ndarray:
    """Mean ``features`` (``[h*w, d]``, a contiguous window in raster order) of the SLIC
    superpixels of the window's valid pixels (``valid [h, w]``), about ``pixels_per_segment``
    pixels each: ``[segments, d]``. Features are standardised for the segmentation only."""
    from skimage.segmentation import slic

    h, w = valid.shape
    image = features.reshape(h, w, -1).astype(np.float64)
    inside = image[valid]
    if len(inside) < 2 * pixels_per_segment:
        raise ValueError(f"need at least {2 * pixels_per_segment} valid pixels to segment")
    scaled = (image - inside.mean(0)) / (inside.std(0) + 1e-9)
    labels = slic(
        scaled, n_segments=max(2, int(valid.sum()) // pixels_per_segment), compactness=0.1,
        channel_axis=-1, mask=valid, start_label=1,
    )  # fmt: skip
    flat = labels.ravel()
    keep = flat > 0
    count = np.bincount(flat[keep])
    sums = np.stack(
        [
            np.bincount(flat[keep], image.reshape(-1, image.shape[-1])[keep, j])
            for j in range(image.shape[-1])
        ],
        axis=1,
    )
    present = count > 0
    return (sums[present] / count[present, None]).astype(np.float32)


def interior_shares(
    cleaned: np.ndarray, raw: np.ndarray, k: int, size: int = INTERIOR_SIZE
) -> np.ndarray:
    """For each unit of a map, the share of its pixels in ``raw`` (the map before the majority
    filter, ``[H, W]``, 1..k, 0 = nodata) that are interior in ``cleaned`` (after it): their whole
    ``size``×``size`` neighbourhood is that unit, nodata or outside the map (a unit cut by the
    window's edge or by clouds is not thin for that). ``[k]``; NaN for a unit holding less than
    :data:`MIN_PRESENCE` of the valid pixels of ``raw``: absent from this part of the raster, so
    not judged."""
    from scipy import ndimage

    structure = np.ones((size, size), bool)
    valid = max(int((raw > 0).sum()), 1)
    shares = np.full(k, np.nan)
    for unit in range(1, k + 1):
        count = int((raw == unit).sum())
        if count < MIN_PRESENCE * valid:
            continue
        member = cleaned == unit
        inside = ndimage.binary_erosion(member | (cleaned == 0), structure, border_value=1)
        # the filter may grow a unit: a share of the larger of its two sizes stays within 0..1
        shares[unit - 1] = (inside & member).sum() / max(count, int(member.sum()))
    return shares


def edge_contrast(
    cleaned: np.ndarray, grid: np.ndarray, k: int, offset: int = EDGE_OFFSET
) -> dict[tuple[int, int], float]:
    """How sharp the boundary between each pair of adjacent units of a map is. ``cleaned [H, W]``
    (1..k, 0 = nodata), ``grid [H, W, d]`` the features. For every pair of pixels ``offset``
    apart (along rows and columns) whose ends lie in units i < j, the feature step from i's end
    to j's, projected on the direction between the two units' means; its median against the
    median absolute projection of the same offset's steps inside the two units (pixels whose
    ``offset + 1`` box is all one unit): a contact gives a step of many times the spread inside,
    a unit split by a smooth change of light about one or two. Returns ``{(i, j): ratio}`` for
    pairs with at least 10 such steps."""
    from scipy import ndimage

    if offset < 2 or offset % 2:
        raise ValueError(f"offset must be even and at least 2, got {offset}")
    h, w = cleaned.shape
    means = np.zeros((k + 1, grid.shape[-1]))
    for unit in range(1, k + 1):
        if (cleaned == unit).any():
            means[unit] = grid[cleaned == unit].mean(0)
    box = np.ones((offset + 1, offset + 1), bool)
    inner = [None] + [ndimage.binary_erosion(cleaned == u, box) for u in range(1, k + 1)]
    pairs, signed, inside = [], [], {u: [] for u in range(1, k + 1)}
    half = offset // 2
    for length, start, end, middle in (
        (h, (slice(0, h - offset), slice(None)), (slice(offset, h), slice(None)),
         (slice(half, h - offset + half), slice(None))),
        (w, (slice(None), slice(0, w - offset)), (slice(None), slice(offset, w)),
         (slice(None), slice(half, w - offset + half))),
    ):  # fmt: skip
        if length <= offset:  # the window is not longer than the offset this way
            continue
        a, b, step = cleaned[start], cleaned[end], grid[end] - grid[start]
        for unit in range(1, k + 1):
            inside[unit].append(step[inner[unit][middle]])
        cross = (a != b) & (a > 0) & (b > 0)
        i, j = a[cross].astype(np.int64), b[cross].astype(np.int64)
        pairs.append(np.minimum(i, j) * (k + 1) + np.maximum(i, j))
        signed.append(step[cross] * np.where(i < j, 1.0, -1.0)[:, None])  # from i's end to j's
    if not pairs:
        return {}
    pairs, signed = np.concatenate(pairs), np.concatenate(signed)
    inside = {u: np.concatenate(v) for u, v in inside.items()}  # once per unit, not per pair
    out = {}
    for key in np.unique(pairs):
        i, j = divmod(int(key), k + 1)
        values = signed[pairs == key]
        spread = np.concatenate([inside[i], inside[j]])
        direction = means[j] - means[i]
        norm = np.linalg.norm(direction)
        if len(values) < 10 or len(spread) < 10 or norm == 0:
            continue
        direction /= norm
        noise = max(float(np.median(np.abs(spread @ direction))), 1e-9)
        # a step against the direction between the means is no edge between them either
        out[(i, j)] = max(float(np.median(values @ direction)), 0.0) / noise
    return out


def _fits(x: np.ndarray, ks: list[int], seed: int) -> list[KMeans]:
    return [KMeans(k, random_state=seed, n_init=2).fit(x) for k in ks]


def _ranked(ks: list[int], score: list[float], higher_is_better: bool) -> tuple[int, int]:
    order = np.argsort(score)[:: -1 if higher_is_better else 1]
    return ks[order[0]], ks[order[1]] if len(order) > 1 else ks[order[0]]


def _silhouette(x, ks, fits, seed):
    from sklearn.metrics import silhouette_score

    idx = np.random.default_rng(seed).permutation(len(x))[:SILHOUETTE_SAMPLE]
    score = [float(silhouette_score(x[idx], f.labels_[idx])) for f in fits]
    return score, *_ranked(ks, score, True)


def _mixtures(x, ks, fits, seed):
    """Full-covariance Gaussian mixtures started from the k-means fits, and their BIC."""
    from sklearn.mixture import GaussianMixture

    mixtures = [
        GaussianMixture(
            k, covariance_type="full", means_init=fit.cluster_centers_, random_state=seed,
            reg_covar=1e-5, max_iter=100,
        ).fit(x)
        for k, fit in zip(ks, fits)
    ]  # fmt: skip
    return mixtures, [float(m.bic(x)) for m in mixtures]


def _bic(x, ks, fits, seed):
    score = _mixtures(x, ks, fits, seed)[1]
    return score, *_ranked(ks, score, False)


def demp_merge(posterior: np.ndarray) -> list[float]:
    """Merge the components of a mixture whose ``posterior [N, K]`` probabilities are given,
    always the pair of clusters with the highest estimated misclassification probability
    (Hennig's DEMP: the share of cluster i's weight whose point the pair would give to j, or the
    reverse, whichever is higher). Returns that probability at each merge, for K clusters down
    to 2: ``out[K - c]`` is the highest one among ``c`` clusters."""
    post = np.asarray(posterior, np.float64)
    path = []
    while post.shape[1] > 1:
        weight = post.sum(0) + 1e-12
        best, pair = -1.0, (0, 1)
        for i in range(post.shape[1]):
            for j in range(i + 1, post.shape[1]):
                to_j = post[:, j] > post[:, i]
                p = max(post[to_j, i].sum() / weight[i], post[~to_j, j].sum() / weight[j])
                if p > best:
                    best, pair = p, (i, j)
        path.append(float(best))
        i, j = pair
        post[:, i] += post[:, j]
        post = np.delete(post, j, axis=1)
    return path


def _demp(x, ks, fits, seed):
    mixtures, bic = _mixtures(x, ks, fits, seed)
    best = int(np.argmin(bic))
    path = demp_merge(mixtures[best].predict_proba(x))  # path[i]: among ks[best] - i clusters
    merges = next((i for i, p in enumerate(path) if p < DEMP_THRESHOLD), len(path))
    chosen = max(ks[best] - merges, ks[0])
    # the curve: the highest misclassification probability among k clusters (none above the
    # mixture's own number of components)
    curve = [path[ks[best] - k] if k <= ks[best] and ks[best] - k < len(path) else None for k in ks]
    # runner-up: the side whose decision came closer to the threshold
    undone = path[merges - 1] if merges > 0 else None  # the last merge made
    following = path[merges] if merges < len(path) else None  # the next one, not made
    if undone is None or (
        following is not None and DEMP_THRESHOLD - following < undone - DEMP_THRESHOLD
    ):
        runner_up = chosen - 1 if chosen - 1 >= ks[0] else chosen + 1
    else:
        runner_up = chosen + 1
    return curve, chosen, runner_up


def _gap(x, ks, fits, seed):
    rng = np.random.default_rng(seed)
    # uniform references in the box of the data's principal axes (Tibshirani et al.'s method b)
    mean = x.mean(0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    rotated = (x - mean) @ vt.T
    low, high = rotated.min(0), rotated.max(0)
    references = [
        rng.uniform(low, high, size=(min(len(x), 2_500), x.shape[1])) for _ in range(GAP_REFERENCES)
    ]
    gaps, spreads = [], []
    for k, fit in zip(ks, fits):
        ref_logs = [
            np.log(KMeans(k, random_state=seed, n_init=1).fit(r).inertia_ / len(r))
            for r in references
        ]
        gaps.append(float(np.mean(ref_logs) - np.log(fit.inertia_ / len(x))))
        spreads.append(float(np.std(ref_logs) * np.sqrt(1 + 1 / GAP_REFERENCES)))
    chosen = next(
        (ks[i] for i in range(len(ks) - 1) if gaps[i] >= gaps[i + 1] - spreads[i + 1]), None
    )
    best = _ranked(ks, gaps, True)
    if chosen is None:
        return gaps, best[0], best[1]
    return gaps, chosen, best[0] if best[0] != chosen else best[1]


def _elbow(x, ks, fits, seed):
    from kneed import KneeLocator

    inertia = [float(f.inertia_) for f in fits]
    locator = KneeLocator(ks, inertia, curve="convex", direction="decreasing")
    # kneed's difference curve: distance of the normalised curve below its chord
    distance = [float(d) for d in locator.y_difference]
    if locator.knee is None:
        mid = ks[len(ks) // 2]
        log.warning("no elbow in the k-means curve over k = 2..%d; using k = %d", ks[-1], mid)
        return distance, mid, _ranked(ks, distance, True)[0]
    chosen = int(locator.knee)
    ranked = [k for k in np.array(ks)[np.argsort(distance)[::-1]] if k != chosen]
    return distance, chosen, int(ranked[0]) if ranked else chosen


_CRITERIA = {"silhouette": _silhouette, "bic": _bic, "gap": _gap, "elbow": _elbow, "demp": _demp}
# what the curve of each criterion is, for plots and metrics.json
CURVE_LABELS = {
    "silhouette": "mean silhouette width (higher is better)",
    "bic": "Gaussian-mixture BIC (lower is better)",
    "gap": "gap statistic (first k within one s.e. of the next)",
    "elbow": "distance below the chord of the inertia curve (knee)",
    "demp": "highest misclassification between merged mixture clusters",
}


def choose_k(features: np.ndarray, k_max: int = 20, seed: int = 0, method: str = "elbow") -> dict:
    """k for ``features [N, d]`` by ``method`` (one of :data:`K_METHODS`) over k = 2..k_max,
    on a sample of :data:`SAMPLE` pixels. Returns ``{"method", "k", "runner_up", "ks", "curve",
    "curve_label", "inertia"}``."""
    if method not in K_METHODS:
        raise ValueError(f"k method must be one of {', '.join(K_METHODS)}, got {method!r}")
    rng = np.random.default_rng(seed)
    x = np.asarray(features, np.float64)[rng.permutation(len(features))[:SAMPLE]]
    ks = list(range(2, min(k_max, len(x) - 1) + 1))
    if len(ks) < 2:
        raise ValueError(f"need at least 2 candidate k (k_max {k_max}, {len(x)} pixels)")
    fits = _fits(x, ks, seed)
    curve, k, runner_up = _CRITERIA[method](x, ks, fits, seed)
    return {
        "method": method,
        "k": int(k),
        "runner_up": int(runner_up),
        "ks": ks,
        "curve": curve,
        "curve_label": CURVE_LABELS[method],
        "inertia": [float(f.inertia_) for f in fits],
    }
