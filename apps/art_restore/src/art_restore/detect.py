"""Is an image damaged, and how? Calibrated evidence per kind of damage from measured statistics.

The restorer's own damage map says where a network would act, not whether it should: on clean
photographs it reports tone and blur damage everywhere. Whether to touch an image at all is
decided here instead, from statistics that each kind of damage moves in a known direction:

- noise: Immerkær's estimate of the noise level at two scales, and isolated black or white
  dust pixels;
- blur: the blur effect of Crété-Roffet (re-blurring a sharp image changes it, a blurred one
  not), the gradient level, the anisotropy of gradients (motion), the depth of the cepstrum's
  deepest dip (a straight motion's spectrum has regular zeros, which put a dip in the cepstrum at
  the motion's length and angle), the width of a Gaussian blur fitted to the fall of the power
  spectrum, how much blurrier the border is than the centre, and how much less fine than
  coarse detail lies across the rays from the best-fitting centre (zoom blur);
- pixelation: identical neighbours, and columns and rows along which nothing changes;
- tone: percentiles of luminance, saturation, colour cast, and how far the black is lifted
  towards the colour of yellowed varnish (fade);
- lines: thin bright or dark ridges (morphological top-hats), by length; long straight ridges of
  near-white grey (scratches: clean photographs rarely hold one); one-pixel dark valleys in long
  thin chains (craquelure); short bright lines at one steep angle spread over the whole image
  (rain);
- stains: brown, soft areas with a darker rim.

(The network's damage map as extra evidence found rain better but flagged clean painted
artworks as cracked: it marks clean edges too.)

A small perceptron maps the standardised features to a probability per kind; its thresholds are
calibrated so that clean images it was not fitted on pass untouched
(``tools/train_damage_detector.py``).
The model is plain numbers in JSON: nothing executable is loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from affine_sr.metrics import noise_sigma
from art_restore.degrade import motion_kernel, undull

__all__ = [
    "EVIDENCE",
    "FEATURES",
    "VEIL",
    "DamageDetector",
    "BlockGrid",
    "MotionEstimate",
    "ZoomEstimate",
    "block_grid",
    "centre",
    "crack_mask",
    "damage_features",
    "dull_strength",
    "gaussian_blur_estimate",
    "motion_blur_estimate",
    "noise_sigma",
    "rain_mask",
    "veil_strength",
    "zoom_blur_estimate",
]

MAX_SIDE = 512  # features are measured on at most this many pixels a side (a centre crop)
MIN_SIDE = 16  # below this, too few pixels to measure anything: no damage is reported


@dataclass(frozen=True)
class BlockGrid:
    """Where pixelation's blocks meet: ``xs`` are the columns ``j`` with a block edge between
    ``j`` and ``j + 1`` (``ys`` the rows), and ``score``, the share of neighbour pairs inside
    blocks (0 for a natural image, about ``1 − 1/block`` for a pixelated one)."""

    xs: np.ndarray
    ys: np.ndarray
    score: float
    size: tuple[int, int]  # (width, height)

    @property
    def block(self) -> float:
        """Mean block size in pixels."""
        w, h = self.size
        return (w / (len(self.xs) + 1) + h / (len(self.ys) + 1)) / 2


def block_grid(image: np.ndarray, tolerance: float = 2.0) -> BlockGrid:
    """Find the block edges of a pixelated ``image`` (``uint8 [H, W, 3]``): a column without an
    edge changes by at most ``tolerance`` levels between every pair of neighbours on it. Blocks
    need not be equal (nearest-neighbour upscaling by a non-integer factor makes them 7 or 8
    pixels wide)."""
    x = image.astype(np.int16)
    dx = np.abs(np.diff(x, axis=1)).max(-1).max(0)
    dy = np.abs(np.diff(x, axis=0)).max(-1).max(1)
    xs, ys = np.nonzero(dx > tolerance)[0], np.nonzero(dy > tolerance)[0]
    inner = 1 - (len(xs) + len(ys)) / max(1, len(dx) + len(dy))
    return BlockGrid(xs, ys, float(inner), (image.shape[1], image.shape[0]))


def centre(image: np.ndarray, size: int = 160) -> np.ndarray:
    """The central ``size``×``size`` crop (or less, for a smaller image)."""
    h, w = image.shape[:2]
    y, x = max(0, (h - size) // 2), max(0, (w - size) // 2)
    return image[y : y + size, x : x + size]


def _blur_effect(grey: np.ndarray) -> float:
    from skimage.measure import blur_effect

    return float(blur_effect(grey, h_size=11))


FEATURES = (
    "noise_sigma",
    "noise_sigma_half",
    "dust",
    "blur_effect",
    "gradient",
    "laplacian_ratio",
    "anisotropy",
    "motion_cepstrum",
    "blur_sigma",
    "border_blur",
    "zoom_score",
    "zoom_depth",
    "zoom_detail",
    "equal_neighbours",
    "grid_score",
    "lum_p01",
    "lum_p50",
    "lum_p99",
    "lum_std",
    "sat_mean",
    "sat_p90",
    "cast_rb",
    "cast_gb",
    "veil",
    "ridge_bright",
    "ridge_dark",
    "ridge_long",
    "scratch_length",
    "crack_share",
    "rain_lines",
    "rain_spread",
    "rain_regular",
    "rain_irregular",
    "brown_share",
)


def damage_features(image: np.ndarray) -> np.ndarray:
    """``float32 [len(FEATURES)]`` statistics of ``image`` (``uint8 [H, W, 3]`` RGB, at least
    ``MIN_SIDE`` pixels a side)."""
    if min(image.shape[:2]) < MIN_SIDE:
        raise ValueError(f"image must be at least {MIN_SIDE} px a side, got {image.shape[:2]}")
    patch = centre(image, MAX_SIDE)
    crop = patch.astype(np.float32) / 255
    grey = crop @ np.float32([0.299, 0.587, 0.114])
    h, w = grey.shape
    f = {}
    f["noise_sigma"] = noise_sigma(grey)
    half = cv2.resize(grey, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
    f["noise_sigma_half"] = noise_sigma(half)
    median = cv2.medianBlur((grey * 255).astype(np.uint8), 3).astype(np.float32) / 255
    extreme = (crop.max(-1) <= 1 / 255) | (crop.min(-1) >= 254 / 255)
    f["dust"] = float((extreme & (np.abs(grey - median) > 0.3)).mean())
    f["blur_effect"] = _blur_effect(grey)
    gx, gy = cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    gradient = np.sqrt(gx**2 + gy**2)
    f["gradient"] = float(np.log(gradient.mean() + 1e-4))
    lap = cv2.Laplacian(grey, cv2.CV_32F)
    f["laplacian_ratio"] = float(np.abs(lap).mean() / (gradient.mean() + 1e-6))
    # directional energy: a motion blur flattens gradients along its direction only
    energies = []
    for angle in np.arange(0, np.pi, np.pi / 8):
        energies.append(np.abs(np.cos(angle) * gx + np.sin(angle) * gy).mean())
    f["anisotropy"] = float(np.log((max(energies) + 1e-6) / (min(energies) + 1e-6)))
    f["motion_cepstrum"] = motion_blur_estimate(grey).score
    f["blur_sigma"] = gaussian_blur_estimate(grey)
    # zoom blur grows with the distance from its centre: the border is blurrier than the middle
    ch, cw = h // 4, w // 4
    border_mask = np.ones_like(grey, bool)
    border_mask[ch : h - ch, cw : w - cw] = False
    centre_grad = gradient[ch : h - ch, cw : w - cw].mean() + 1e-4
    f["border_blur"] = float(np.log(centre_grad / (gradient[border_mask].mean() + 1e-4)))
    zoom = zoom_blur_estimate(grey)
    f["zoom_score"], f["zoom_depth"], f["zoom_detail"] = zoom.score, zoom.depth, zoom.detail
    q = np.round(crop * 255)
    same_x = (np.abs(np.diff(q, axis=1)).sum(-1) == 0).mean()
    same_y = (np.abs(np.diff(q, axis=0)).sum(-1) == 0).mean()
    f["equal_neighbours"] = float(min(same_x, same_y))
    f["grid_score"] = block_grid(patch).score
    p01, p50, p99 = np.quantile(grey, [0.01, 0.5, 0.99])
    f["lum_p01"], f["lum_p50"], f["lum_p99"] = float(p01), float(p50), float(p99)
    f["lum_std"] = float(grey.std())
    saturation = crop.max(-1) - crop.min(-1)
    f["sat_mean"] = float(saturation.mean())
    f["sat_p90"] = float(np.quantile(saturation, 0.9))
    mean = crop.reshape(-1, 3).mean(0)
    f["cast_rb"], f["cast_gb"] = float(mean[0] - mean[2]), float(mean[1] - mean[2])
    f["veil"] = veil_strength(patch)
    # thin ridges: top-hats keep structures narrower than the element
    element = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    bright = cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, element)
    dark = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, element)
    f["ridge_bright"] = float((bright > 0.15).mean())
    f["ridge_dark"] = float((dark > 0.15).mean())
    ridges = ((np.maximum(bright, dark) > 0.15) * 255).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(ridges, connectivity=8)
    long_ = [s for s in stats[1:] if max(s[2], s[3]) >= 20 and s[4] < 0.3 * s[2] * s[3]]
    f["ridge_long"] = float(sum(s[4] for s in long_) / grey.size)
    f["scratch_length"] = _scratch_length(grey, saturation)
    f["crack_share"] = _crack_share(grey)
    f["rain_lines"], f["rain_spread"], f["rain_regular"] = _rain_streaks(grey)
    # evenly spread and not repeating (the minimum rain needs, see EVIDENCE)
    f["rain_irregular"] = f["rain_spread"] - 2 * f["rain_regular"]
    r, g, b = crop[..., 0], crop[..., 1], crop[..., 2]
    brown = (r > g) & (g > b) & (r - b > 0.12) & (r - b < 0.45) & (saturation < 0.5)
    f["brown_share"] = float(brown.mean())
    return np.array([f[name] for name in FEATURES], np.float32)


# the colour of a yellowed-varnish veil (the damage generator's fade; real veils vary by a few
# per cent) and the share of darkest pixels taken as the image's own black
VEIL = np.array([235.0, 225.0, 190.0], np.float32)
BLACK_SHARE = 0.002


def _spread(ratios: np.ndarray) -> float:
    return float(np.max(ratios) / max(float(np.min(ratios)), 1e-6))


def veil_strength(image: np.ndarray, veil: np.ndarray = VEIL) -> float:
    """The opacity ``a`` of a pale veil ``y = (1 − a)·x + a·veil`` over ``image`` (``uint8
    [H, W, 3]``), from its darkest pixels: the image's own black lifted towards the veil. 0 when
    the black is lifted more nearly in proportion to white than to the veil's colour: a high-key
    photograph, not a faded one (on the held-out images the two spreads differ by 0.05 or more
    either way)."""
    black = np.quantile(image.reshape(-1, 3).astype(np.float32), BLACK_SHARE, axis=0)
    a = float(np.clip(np.min(black / veil), 0.0, 0.9))
    if a <= 0 or _spread(black / veil) >= _spread(black / 255):
        return 0.0
    return a


# Dulling pulls every colour towards grey and the image's mean, so the image stops short of the
# gamut everywhere, while a photograph or painting reaches it somewhere (its black, its white or
# its most vivid colour). The dulling measured is the strongest whose inverse keeps all but this
# share of pixels within the gamut (give or take a couple of levels of rounding).
GAMUT_SHARE, GAMUT_SLACK = 0.002, 2.0
MAX_PIXELS = 1 << 18  # pixels sampled (a regular grid over the whole image) to measure dulling


def dull_strength(image: np.ndarray, steps: int = 16) -> float:
    """The strength ``a`` of the strongest dulling (:func:`art_restore.degrade.dull`) that
    ``image`` (``uint8 [H, W, 3]``) could have undergone: undone, it takes the image just to the
    gamut's edge. 0 for an image that reaches it already. An upper bound: an image that never
    reached the gamut (fog, a muted palette, grey texture) measures above its dulling."""
    step = int(np.ceil(np.sqrt(image.shape[0] * image.shape[1] / MAX_PIXELS)))
    x = image[::step, ::step].reshape(-1, 3).astype(np.float32)
    lo, hi = 0.0, 0.95
    for _ in range(steps):  # bisection: the share outside the gamut grows with a
        a = (lo + hi) / 2
        y = undull(x, a)
        outside = ((y < -GAMUT_SLACK) | (y > 255 + GAMUT_SLACK)).any(-1).mean()
        lo, hi = (a, hi) if outside <= GAMUT_SHARE else (lo, a)
    return lo


@dataclass(frozen=True)
class MotionEstimate:
    """A straight motion blur's ``length`` (pixels) and ``angle`` (degrees, as
    :func:`art_restore.degrade.motion_kernel` takes them), and the ``score`` behind them: how
    many standard deviations the cepstrum's dip at that offset lies below the cepstrum's values
    at all the offsets searched (about 2-4 on clean images, 7 and more on blurred ones)."""

    length: int
    angle: float
    score: float


MOTION_LENGTHS = (4, 32)  # motion lengths searched, in pixels
_ANGLES = np.deg2rad(np.arange(0, 180, 2.0))


def motion_blur_estimate(grey: np.ndarray) -> MotionEstimate:
    """The straight motion that best explains ``grey`` (float in [0, 1]), from its cepstrum: the
    blur multiplies the spectrum by a sinc with zeros every ``size / length`` along the motion,
    which the logarithm turns into a dip at ``length`` pixels along the motion's angle."""
    h, w = grey.shape
    window = np.outer(np.hanning(h), np.hanning(w))
    spectrum = np.abs(np.fft.fft2((grey - grey.mean()) * window))
    cepstrum = np.fft.fftshift(np.real(np.fft.ifft2(np.log(spectrum + 1e-3)))).astype(np.float32)
    lengths = np.arange(*MOTION_LENGTHS, dtype=np.float32)
    # offsets (length, angle) on the image as shown: y grows downwards
    map_x = (w // 2 + lengths[None, :] * np.cos(_ANGLES)[:, None]).astype(np.float32)
    map_y = (h // 2 - lengths[None, :] * np.sin(_ANGLES)[:, None]).astype(np.float32)
    values = cv2.remap(cepstrum, map_x, map_y, cv2.INTER_LINEAR)
    a, k = np.unravel_index(np.argmin(values), values.shape)
    score = -values[a, k] / (values.std() + 1e-9)
    return MotionEstimate(int(lengths[k]), float(np.rad2deg(_ANGLES[a])), float(score))


@dataclass(frozen=True)
class ZoomEstimate:
    """The centre of a zoom (radial) blur as fractions ``(cx, cy)`` of the image's width and
    height, with the evidence: ``score``, how much less of the patches' finest detail than of
    their coarser detail lies across the rays from that centre (a mean log ratio: about 0 when
    nothing was blurred, negative where the image was blurred along the rays); ``depth``, how
    far ``score`` lies below its median over every centre searched; and ``detail``, the share
    of the finest detail that lies across those rays (1 when it has no preferred direction)."""

    cx: float
    cy: float
    score: float
    depth: float
    detail: float


_ZOOM_ANGLES = np.arange(0, np.pi, np.pi / 24)
_ZOOM_PATCH = 24  # pixels a side of the patches whose detail is compared by direction
_ZOOM_GRID = np.linspace(0.15, 0.85, 29)  # candidate centres, as fractions of the sides
_ZOOM_SHIFTS = (1, 4)  # pixels: the finest detail, and detail coarser than most zoom blurs
_ZOOM_MIN_PATCHES = 16  # fewer (images under about 96 px a side) give no evidence


def zoom_blur_estimate(grey: np.ndarray, centre: tuple[float, float] | None = None) -> ZoomEstimate:
    """Where a zoom blur is centred in ``grey`` (float in [0, 1]). A zoom blur smears each point
    along the ray from its centre over a few pixels, more with the distance, so patches lose
    their finest detail across the rays through the true centre. Each patch's detail is the
    energy of differences between pixels 1 and 4 px apart in 24 directions, each normalised by
    its mean over the directions; an edge of the picture itself is as strong at both distances
    in its own direction, so the log ratio of the two cancels it, while a blur of a few pixels
    removes the 1-px differences along the rays and far less of the 4-px ones. The centre whose
    rays have the lowest ratio wins (chosen by comparing both on the 11 held-out images: within
    0.08 of the side on 10 and 0.19 on the last, ``tools/tune_zoom_expert.py --heldout``,
    where the finest detail's direction alone, an earlier version, missed by up to half).
    With ``centre`` (fractions of the sides), the evidence at that centre only (``depth`` 0).
    An image of fewer than 16 patches gives no evidence (``score`` and ``depth`` 0)."""
    h, w = grey.shape
    ph, pw = max(1, h // _ZOOM_PATCH), max(1, w // _ZOOM_PATCH)
    if ph * pw < _ZOOM_MIN_PATCHES:  # too few patches: the best of 841 centres is luck
        fx, fy = centre or (0.5, 0.5)
        return ZoomEstimate(fx, fy, 0.0, 0.0, 1.0)
    energy = np.empty((len(_ZOOM_SHIFTS), ph, pw, len(_ZOOM_ANGLES)), np.float32)
    for i, d in enumerate(_ZOOM_SHIFTS):
        for j, a in enumerate(_ZOOM_ANGLES):
            m = np.float32([[1, 0, -d * np.cos(a)], [0, 1, -d * np.sin(a)]])
            moved = cv2.warpAffine(grey, m, (w, h), borderMode=cv2.BORDER_REFLECT)
            energy[i, :, :, j] = cv2.resize(
                (moved - grey) ** 2, (pw, ph), interpolation=cv2.INTER_AREA
            )
    energy /= energy.mean(-1, keepdims=True) + 1e-8
    ratio = np.log(energy[0] + 1e-3) - np.log(energy[1] + 1e-3)
    py, px = (np.mgrid[0:ph, 0:pw] + 0.5) * np.float32([[[h / ph]], [[w / pw]]])
    step = np.pi / len(_ZOOM_ANGLES)

    def across_rays(values: np.ndarray, fx: float, fy: float) -> float:
        dx, dy = px - fx * w, py - fy * h
        r = np.hypot(dx, dy)
        k = np.round(np.mod(np.arctan2(dy, dx), np.pi) / step).astype(int) % len(_ZOOM_ANGLES)
        outer = r > 0.1 * max(h, w)  # near the centre the blur is too short to see
        chosen = np.take_along_axis(values, k[..., None], -1)[..., 0]
        return float(chosen[outer].mean()) if outer.any() else 0.0

    if centre is not None:
        fx, fy = centre
        return ZoomEstimate(fx, fy, across_rays(ratio, fx, fy), 0.0, across_rays(energy[0], fx, fy))
    scores = np.array([[across_rays(ratio, fx, fy) for fx in _ZOOM_GRID] for fy in _ZOOM_GRID])
    a, b = np.unravel_index(np.argmin(scores), scores.shape)
    fx, fy, best = float(_ZOOM_GRID[b]), float(_ZOOM_GRID[a]), float(scores[a, b])
    detail = across_rays(energy[0], fx, fy)
    return ZoomEstimate(fx, fy, best, float(np.median(scores) - best), detail)


def _spectral_width(grey: np.ndarray, lowest: float, highest: float) -> float:
    """The Gaussian width that explains the power spectrum's fall between two frequencies
    (cycles per pixel), against the ``1/f²`` of natural images: ``log P(f) + 2 log f`` is fitted
    by a line in ``f²`` whose slope is ``−4π²σ²``."""
    h, w = grey.shape
    window = np.outer(np.hanning(h), np.hanning(w))
    power = np.abs(np.fft.fft2((grey - grey.mean()) * window)) ** 2
    f = np.hypot(np.fft.fftfreq(h)[:, None], np.fft.fftfreq(w)[None, :])
    edges = np.linspace(lowest, highest, 24)
    ring = np.digitize(f, edges)
    fs, logs = [], []
    for i in range(1, len(edges)):
        inside = ring == i
        if inside.any():
            fs.append(f[inside].mean())
            logs.append(np.log(power[inside].mean() + 1e-12))
    fs = np.array(fs)
    slope = np.polyfit(fs**2, np.array(logs) + 2 * np.log(fs), 1)[0]
    return float(np.sqrt(max(0.0, -slope) / (4 * np.pi**2)))


def gaussian_blur_estimate(grey: np.ndarray) -> float:
    """The width σ (pixels) of the Gaussian blur that best explains ``grey`` (float in [0, 1]):
    about 0.5-0.7 on sharp images. The fit stops where a blur of the current estimate has
    brought the spectrum down to the noise floor (at ``0.4 / σ`` cycles per pixel), three
    rounds. The estimate runs 10% high on blurred training images (their spectra fall faster
    than ``1/f²``), which the deblurring expert corrects."""
    sigma = _spectral_width(grey, 0.03, 0.25)
    for _ in range(3):
        sigma = _spectral_width(grey, 0.02, float(np.clip(0.4 / max(sigma, 0.1), 0.06, 0.25)))
    return sigma


def _scratch_length(grey: np.ndarray, saturation: np.ndarray) -> float:
    """Total length, in image sides, of straight segments at least a sixth of the image long on
    thin ridges (0.2 above their surroundings) of one near-white grey: scratches through the
    paint down to the ground. Of the detector's 684 clean training crops, none has one."""
    element = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    ridge = cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, element) > 0.2
    white = (np.abs(grey - 0.96) < 0.02) & (saturation < 0.03)
    mask = ((ridge & white) * 255).astype(np.uint8)
    side = max(grey.shape)
    lines = cv2.HoughLinesP(mask, 1, np.pi / 180, 20, minLineLength=side // 6, maxLineGap=2)
    if lines is None:
        return 0.0
    x0, y0, x1, y1 = lines[:, 0].T.astype(np.float64)
    return float(np.hypot(x1 - x0, y1 - y0).sum() / side)


# directions of the short-line filters (degrees from the x axis) and those of falling streaks
LINE_ANGLES = np.arange(0.0, 180.0, 15.0)
STEEP = (LINE_ANGLES >= 70) & (LINE_ANGLES <= 110)


def _short_lines(
    grey: np.ndarray, angles: np.ndarray, length: int = 11, gap: int = 2
) -> np.ndarray:
    """``bool [len(angles), H, W]``: per direction (degrees from the x axis), the pixels on short
    bright lines: ``grey`` smoothed along the direction over ``length`` px is brighter by 0.02
    than on both sides ``gap`` px across it (so edges, bright on one side only, do not count)."""
    h, w = grey.shape
    on = []
    for angle in angles:
        along = cv2.filter2D(grey, -1, motion_kernel(length, angle), borderType=cv2.BORDER_REFLECT)
        t = np.deg2rad(angle)
        nx, ny = -np.sin(t) * gap, -np.cos(t) * gap
        sides = [
            cv2.warpAffine(along, np.float32([[1, 0, sx], [0, 1, sy]]), (w, h),
                           borderMode=cv2.BORDER_REFLECT)
            for sx, sy in ((nx, ny), (-nx, -ny))
        ]  # fmt: skip
        on.append(np.minimum(along - sides[0], along - sides[1]) > 0.02)
    return np.stack(on)


def rain_mask(grey: np.ndarray) -> np.ndarray:
    """``bool [H, W]``: the pixels on short bright lines in the steep direction that holds most
    of them (rain's streaks, see :func:`_rain_streaks`). ``grey`` is float in [0, 1]."""
    on = _short_lines(grey, LINE_ANGLES[STEEP])
    return on[int(np.argmax(on.mean((1, 2))))]


def _rain_streaks(grey: np.ndarray) -> tuple[float, float, float]:
    """Evidence of streaks falling at one steep angle all over the image (rain or runs on glass),
    from the short bright lines of :func:`_short_lines` in every direction. Returns (a) the log
    ratio of the share of such pixels at the best steep direction to the median over all
    directions; (b) how evenly that direction's excess spreads: the lower quartile of its excess
    share over a 4×4 grid of cells, relative to its share; (c) how regularly its lines repeat
    across their direction: the highest autocorrelation of their map at 4 to 63 px (at most a
    third of the side) along the normal. Upright structures (a rocket) give (a) but sit in a few
    cells; the joints of a brick wall give (a) and (b) but repeat (c ≥ 0.10, rain ≤ 0.09 on nine
    in ten training crops); rain gives (a) and (b) at random places."""
    h, w = grey.shape
    on = _short_lines(grey, LINE_ANGLES).astype(np.float32)
    shares = on.mean((1, 2))
    best = int(np.flatnonzero(STEEP)[np.argmax(shares[STEEP])])
    lines = float(np.log((shares[best] + 1e-4) / (np.median(shares) + 1e-4)))
    excess = (on[best] - on.mean(0))[: h // 4 * 4, : w // 4 * 4]
    cells = excess.reshape(4, h // 4, 4, w // 4).mean((1, 3))
    spread = float(np.quantile(cells, 0.25) / (shares[best] + 1e-4))
    centred = on[best] - shares[best]
    power = np.abs(np.fft.rfft2(centred)) ** 2
    auto = np.fft.irfft2(power, s=centred.shape)
    auto /= auto[0, 0] + 1e-9
    t = np.deg2rad(LINE_ANGLES[best])
    lags = np.arange(4, max(5, min(64, min(h, w) // 3)))
    ys, xs = (
        np.round(-np.cos(t) * lags).astype(int) % h,
        np.round(-np.sin(t) * lags).astype(int) % w,
    )
    return lines, spread, float(auto[ys, xs].max())


def crack_mask(
    grey: np.ndarray,
    depth: float = 0.1,
    darkest: float = 0.5,
    widths: tuple[int, ...] = (1, 2),
    min_length: int = 12,
) -> np.ndarray:
    """``bool [H, W]``: pixels of thin dark valleys (darker by ``depth`` than both neighbours
    ``w`` pixels away across them, horizontally or vertically, for some ``w`` in ``widths``, and
    at most ``darkest``) that chain into thin components at least ``min_length`` px long:
    craquelure, and not the blobs and edges of clean paint. ``grey`` is float in [0, 1]."""
    r = max(widths)
    padded = cv2.copyMakeBorder(grey, r, r, r, r, cv2.BORDER_REPLICATE)
    h, w = grey.shape
    lowest_rise = np.zeros_like(grey)
    for d in widths:
        left, right = padded[r : r + h, r - d : r - d + w], padded[r : r + h, r + d : r + d + w]
        up, down = padded[r - d : r - d + h, r : r + w], padded[r + d : r + d + h, r : r + w]
        rise = np.maximum(np.minimum(left, right), np.minimum(up, down)) - grey
        lowest_rise = np.maximum(lowest_rise, rise)
    valley = (lowest_rise > depth) & (grey <= darkest)
    count, labels, stats, _ = cv2.connectedComponentsWithStats((valley * 255).astype(np.uint8))
    width, height, area = stats[:, 2], stats[:, 3], stats[:, 4]
    chain = (np.maximum(width, height) >= min_length) & (area < 0.3 * width * height)
    chain[0] = False  # the background
    return chain[labels]


def _crack_share(grey: np.ndarray) -> float:
    """Share of pixels on strict craquelure chains (one pixel wide, 0.15 deep, 20 px long): of
    the detector's 684 clean training crops, none has one."""
    return float(crack_mask(grey, 0.15, 0.4, (1,), 20).mean())


# Kinds reported only where their own line statistic exceeds a minimum, so that the perceptron's
# other evidence (ridges, gradients, upright edges) cannot call clean texture scratched, cracked
# or rained on. No clean training crop has a scratch or a crack chain; rain's minimum passes 86%
# of rained-on training crops and 6% of clean ones (the perceptron then decides).
EVIDENCE = {
    "scratches": ("scratch_length", 0.0),
    "cracks": ("crack_share", 0.0),
    "rain": ("rain_irregular", 0.1),
}


class DamageDetector:
    """Per kind of damage, ``P(damaged)`` from :func:`damage_features` by a small multi-label
    perceptron (standardised features, ReLU hidden layers, one logistic output per kind), with a
    threshold per kind calibrated on clean images that took no part in fitting."""

    def __init__(
        self,
        kinds: list[str],
        mean: np.ndarray,
        scale: np.ndarray,
        weights: list[np.ndarray],
        biases: list[np.ndarray],
        thresholds: np.ndarray,
    ):
        self.kinds = list(kinds)
        self.mean, self.scale = np.asarray(mean, np.float64), np.asarray(scale, np.float64)
        self.weights = [np.asarray(w, np.float64) for w in weights]  # [in, out] per layer
        self.biases = [np.asarray(b, np.float64) for b in biases]
        self.thresholds = np.asarray(thresholds, np.float64)
        matrices = all(w.ndim == 2 for w in self.weights)
        sizes = [len(FEATURES)] + [w.shape[1] for w in self.weights] if matrices else []
        shapes_ok = (
            matrices
            and len(self.weights) == len(self.biases) >= 1
            and all(w.shape[0] == n for w, n in zip(self.weights, sizes))
            and all(b.shape == (w.shape[1],) for w, b in zip(self.weights, self.biases))
            and sizes[-1] == len(self.kinds) == len(self.thresholds)
            and self.mean.shape == self.scale.shape == (len(FEATURES),)
        )
        if not shapes_ok:
            raise ValueError(f"layer shapes {[list(w.shape) for w in self.weights]} do not map "
                             f"{len(FEATURES)} features to {len(self.kinds)} kinds")  # fmt: skip

    def perceptron(self, features: np.ndarray) -> np.ndarray:
        """``[..., kinds]``: the perceptron's probabilities for features ``[..., len(FEATURES)]``."""
        h = (np.asarray(features, np.float64) - self.mean) / self.scale
        for w, b in zip(self.weights[:-1], self.biases[:-1]):
            h = np.maximum(h @ w + b, 0)
        logits = h @ self.weights[-1] + self.biases[-1]
        return 1 / (1 + np.exp(-np.clip(logits, -50, 50)))

    def detect(self, image: np.ndarray) -> dict[str, float]:
        """The kinds whose probability reaches their threshold, with that probability (none for
        an image under ``MIN_SIDE`` pixels a side)."""
        return self.found(self.evidence(image))

    def evidence(self, image: np.ndarray) -> dict[str, float]:
        """Every kind's probability for ``image`` (none for an image under ``MIN_SIDE`` pixels
        a side)."""
        if min(image.shape[:2]) < MIN_SIDE:
            return {}
        return dict(zip(self.kinds, self.probabilities(damage_features(image)).tolist()))

    def found(self, evidence: dict[str, float]) -> dict[str, float]:
        """The kinds of ``evidence`` whose probability reaches their threshold."""
        thresholds = dict(zip(self.kinds, self.thresholds))
        return {k: p for k, p in evidence.items() if p >= thresholds[k]}

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """``[..., kinds]`` probabilities for features ``[..., len(FEATURES)]``: the perceptron's,
        and 0 for a kind whose own evidence (:data:`EVIDENCE`) is not above its minimum."""
        features = np.asarray(features, np.float64)
        probs = self.perceptron(features)
        for kind, (feature, minimum) in EVIDENCE.items():
            if kind in self.kinds:
                k = self.kinds.index(kind)
                probs[..., k] = np.where(
                    features[..., FEATURES.index(feature)] > minimum, probs[..., k], 0
                )
        return probs

    def _content(self) -> str:
        return json.dumps(
            {
                "features": list(FEATURES),
                "kinds": self.kinds,
                "mean": self.mean.tolist(),
                "scale": self.scale.tolist(),
                "weights": [w.tolist() for w in self.weights],
                "biases": [b.tolist() for b in self.biases],
                "thresholds": self.thresholds.tolist(),
            }
        )

    def save(self, path: str | os.PathLike) -> None:
        Path(path).write_text(self._content())

    def fingerprint(self) -> str:
        """SHA-256 of the detector's features and numbers: a restorer's identity includes it,
        since another detector routes images to other experts."""
        return hashlib.sha256(self._content().encode()).hexdigest()

    @classmethod
    def load(cls, path: str | os.PathLike) -> DamageDetector:
        path = Path(path)
        try:
            data = json.loads(path.read_text())
            if data["features"] != list(FEATURES):
                raise ValueError("it was fitted on other features")
            detector = cls(
                data["kinds"],
                data["mean"],
                data["scale"],
                data["weights"],
                data["biases"],
                data["thresholds"],
            )
        except (OSError, KeyError, TypeError, ValueError, json.JSONDecodeError) as err:
            raise ValueError(f"{path} is not a damage detector ({err})") from None
        values = [detector.mean, detector.scale, detector.thresholds, *detector.weights,
                  *detector.biases]  # fmt: skip
        if not all(np.isfinite(v).all() for v in values) or (detector.scale <= 0).any():
            raise ValueError(f"{path} is not a damage detector (non-finite or zero values)")
        return detector
