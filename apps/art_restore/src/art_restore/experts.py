"""One restorer, several experts: each kind of damage is repaired by the method that gains on it,
and an image (or region) without measured damage is returned exactly as it came.

:func:`restore_guarded` runs the damage detector (:mod:`art_restore.detect`), then

- ``pixelate``: the block grid is found, each block's colour taken as one sample at the block's
  centre, and the image rebuilt by bicubic interpolation between the centres;
- ``fade``: the pale veil's strength from the image's darkest pixels, then the veil divided out;
- ``noise``, ``gaussian_noise``, ``scratches``: the residual network over the whole image
  (without its tone stage, which follows the training set's colours, not the image's);
- ``cracks`` and ``rain`` alone: the same network, its output kept only on their own lines (the
  thin dark valleys of :func:`art_restore.detect.crack_mask`, the short bright lines at the
  rain's angle of :func:`art_restore.detect.rain_mask`, grown by a pixel), and there only
  lightening a crack's pixels and darkening a streak's: everywhere else the image stays exact.
  On the held-out images the whole-image network gained +2.2 dB on cracks and lost 1 dB on a
  grey photograph of fine grass; on the cracks' pixels +4.2, and only lightening them +5.4;
- ``motion_blur``: the motion's length and angle from the image's cepstrum
  (:func:`art_restore.detect.motion_blur_estimate`), then Wiener deconvolution with that kernel;
- ``blur``: the Gaussian's width from the fall of the power spectrum
  (:func:`art_restore.detect.gaussian_blur_estimate`), then Wiener deconvolution (after the
  network, so that noise is not sharpened);
- ``radial_blur``: the zoom's centre from the directions in which the image lost detail
  (:func:`art_restore.detect.zoom_blur_estimate`), then least squares against the zoom blur
  itself (:func:`art_restore.degrade.zoom_blur` and its adjoint) with a smoothness penalty, a
  few accelerated gradient steps, at a conservative strength; kept only if the result still
  lacks fine detail across the rays (else declined, and reported so);
- ``water_damage``: the stain's opacity towards brown and its tide line predicted by a small
  network (:mod:`art_restore.stains`) and divided out, kept only where a tide line was found
  (else declined, and reported so);
- ``dull``: the strongest dulling the image could have undergone, measured by how far its
  colours stop short of the gamut (:func:`art_restore.detect.dull_strength`), undone where it
  is strong enough that clean images rarely measure it and not stronger than a dulling can be
  (decided here, not by the detector, whose dullness output overlaps with clean flat images),
  on colour images only, and not where another kind found (fade, stains, Gaussian or motion
  blur, pixelation) or a stain removal kept also keeps an image from the gamut's edge. Like
  the stain removal (tried from half the detector's certainty) it can act on an image in which
  the detector found nothing (on 4% of clean or re-toned training crops: muted, lifted-black
  ones).

Every decision is returned in a report (kinds found with their probabilities, experts run, the
share of the image each one changed).
"""

from __future__ import annotations

import cv2
import numpy as np

from art_restore.degrade import motion_kernel, undull, zoom_blur
from art_restore.detect import (
    MAX_SIDE,
    MIN_SIDE,
    VEIL,
    DamageDetector,
    block_grid,
    centre,
    crack_mask,
    dull_strength,
    gaussian_blur_estimate,
    motion_blur_estimate,
    rain_mask,
    veil_strength,
    zoom_blur_estimate,
)
from art_restore.residual import ResidualRestorer, restore_residual
from art_restore.stains import remove_stains, tide_share

__all__ = [
    "LINE_KINDS",
    "NETWORK_KINDS",
    "STAIN_EVIDENCE",
    "VEIL",
    "colourfulness",
    "deblur_zoom",
    "depixelate",
    "remove_dullness",
    "remove_veil",
    "repair_lines",
    "restore_guarded",
    "rules_fingerprint",
    "wiener_deconvolve",
]

# kinds the residual network repairs over the whole image (measured gains on held-out images)
NETWORK_KINDS = ("noise", "gaussian_noise", "scratches")
# kinds it repairs on their own lines only, the rest of the image kept exact
LINE_KINDS = ("rain", "cracks")


# Wiener's noise-to-signal balance, and the share of the estimated Gaussian width deconvolved
# (the estimate runs high), chosen on 256-px crops of 19 training images blurred at severities
# 0.2, 0.5 and 1, each kernel estimated from the image: for motion blur 0.01 gained a median
# +4.2, +3.4 and +2.3 dB (0.003 rang, 0.03 left blur); for Gaussian blur 0.9·σ and 0.003 gained
# a mean +2.0, +2.1 and +0.9 dB, where unsharp masking (the previous expert) gained +1.0, +1.2, +0.4
WIENER_BALANCE = 0.01
GAUSSIAN_SHRINK, GAUSSIAN_BALANCE = 0.9, 0.003


def _luma(image: np.ndarray) -> np.ndarray:
    """Luma in [0, 1] (float32 ``[H, W]``) of ``uint8 [H, W, 3]`` RGB, as the detector measures."""
    return image.astype(np.float32) / 255 @ np.float32([0.299, 0.587, 0.114])


def _at_most(image: np.ndarray, side: int) -> np.ndarray:
    """``image`` shrunk (area-averaged) so that neither side exceeds ``side``."""
    h, w = image.shape[:2]
    scale = side / max(h, w)
    if scale >= 1:
        return image
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def wiener_deconvolve(
    image: np.ndarray, kernel: np.ndarray, balance: float = WIENER_BALANCE
) -> np.ndarray:
    """``image`` (``uint8 [H, W, 3]``) deblurred by the Wiener filter of ``kernel`` (centred,
    summing to 1). The image is mirrored at its edges first, so that the periodic FFT sees no
    jump there to ring on."""
    pad = 2 * max(kernel.shape)
    x = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT).astype(np.float64)
    h, w = x.shape[:2]
    psf = np.zeros((h, w))
    kh, kw = kernel.shape
    psf[:kh, :kw] = kernel
    psf = np.roll(psf, (-(kh // 2), -(kw // 2)), (0, 1))  # the kernel's centre at the origin
    transfer = np.fft.rfft2(psf)
    inverse = np.conj(transfer) / (np.abs(transfer) ** 2 + balance)
    spectra = np.fft.rfft2(x, axes=(0, 1))
    out = np.fft.irfft2(spectra * inverse[..., None], s=(h, w), axes=(0, 1))
    return np.clip(out[pad:-pad, pad:-pad], 0, 255).round().astype(np.uint8)


# The zoom deblurring's strength (the zoom spanned by the copies averaged), its smoothness
# penalty and steps. No statistic tried measured the strength, so it is fixed, chosen on 68
# 256-px crops of the training images per severity, zoom-blurred, each centre found from the
# image (`tools/tune_zoom_expert.py`): 0.015 gains a median +6.6, +2.4 and +1.1 dB at
# severities 0.2, 0.5 and 1 (zooms of 0.016, 0.04 and 0.08); 0.025 gains more on the stronger
# blurs (+4.3, +1.9) and loses on the weak ones (median −0.5, worst −7.3 dB); 30 steps instead
# of 15 changed nothing. The blur is modelled with 6 copies (the damage generator averages 12),
# chosen on the held-out images: as good there (+2.47 vs +2.43 dB mean at severity 0.5) in half
# the time (1.1 s for 1024×1024 on one thread).
ZOOM_STRENGTH, ZOOM_SMOOTHNESS, ZOOM_STEPS, ZOOM_COPIES = 0.015, 0.002, 15, 6
# The zoom deblurring is kept only if the image still lacks fine detail across the rays from the
# centre afterwards (:attr:`~art_restore.detect.ZoomEstimate.score` below this): a real zoom
# blur, deblurred at the conservative strength, keeps some of its deficit, while an image whose
# own texture merely runs along the rays comes out with more fine detail across them than a
# natural image has. On the same training crops (the same tool) it kept the deblurring on 82%, 94% and 91% of
# zoom-blurred ones (severities 0.2, 0.5, 1) and on 12-21% of those that were clean, dull,
# stained or Gaussian-blurred, on which deblurring loses a median 0.2 to 1.2 dB.
ZOOM_ACCEPT = 0.0
ZOOM_MAX_SIDE = 32767  # pixels: OpenCV's geometric warps take smaller images only
# the share of pixels on a predicted tide line (art_restore.stains.tide_share) below which a
# stain removal is declined: above the largest of 684 clean training crops (0.0145), so that
# clean brown paint is left alone even where the detector reports stains; it passes 45% of
# crops stained at severity 0.5
TIDE_EVIDENCE = 0.015
# The detector's probability of stains from which the stain removal is tried (its threshold, set
# so that clean images pass, is 0.9994 and found none of the held-out stained images). On 532
# training crops (clean, re-toned, stained twice, dull, faded, blurred;
# `tools/tune_expert_checks.py stains`) any minimum from 0.05 to 0.5 with the tide check passed
# no clean, dull, faded or blurred crop and 45% of the stained ones (median +6.9 dB, worst +2.6).
STAIN_EVIDENCE = 0.5


def deblur_zoom(
    image: np.ndarray,
    cx: float,
    cy: float,
    zoom: float = ZOOM_STRENGTH,
    smoothness: float = ZOOM_SMOOTHNESS,
    steps: int = ZOOM_STEPS,
    copies: int = ZOOM_COPIES,
) -> np.ndarray:
    """``image`` (``uint8 [H, W, 3]``) with a zoom blur about ``(cx, cy)`` (pixels) of strength
    ``zoom`` undone: the ``x`` minimising ``|B x − image|² + smoothness · |∇x|²``, ``B`` the
    blur of :func:`art_restore.degrade.zoom_blur` with ``copies`` copies, by ``steps`` of Nesterov-accelerated gradient
    descent from the image itself (few steps also regularise: the finest detail, which the blur
    removed most, comes back last). One channel at a time, to bound memory on large scans."""
    if image.ndim != 3:
        raise ValueError(f"expected an image [H, W, C], got shape {list(image.shape)}")
    return np.stack([_deblur_zoom_channel(c, cx, cy, zoom, smoothness, steps, copies)
                     for c in np.moveaxis(image, -1, 0)], -1)  # fmt: skip


def _deblur_zoom_channel(
    channel: np.ndarray,
    cx: float,
    cy: float,
    zoom: float,
    smoothness: float,
    steps: int,
    copies: int,
) -> np.ndarray:
    y = channel.astype(np.float32)[..., None]
    x, v, t = y, y, 1.0
    for _ in range(steps):
        residual = zoom_blur(v, cx, cy, zoom, copies) - y
        gradient = zoom_blur(residual, cx, cy, zoom, copies, adjoint=True)
        gradient -= smoothness * cv2.Laplacian(v, cv2.CV_32F).reshape(v.shape)
        new = v - gradient  # a unit step: the blur averages, so its norm is at most 1
        t_next = (1 + np.sqrt(1 + 4 * t * t)) / 2
        v = (new + (t - 1) / t_next * (new - x)).astype(np.float32)
        x, t = new, t_next
    return np.clip(x[..., 0], 0, 255).round().astype(np.uint8)


def remove_veil(image: np.ndarray, veil: np.ndarray = VEIL) -> tuple[np.ndarray, float]:
    """Undo a pale veil ``y = (1 − a)·x + a·veil``, ``a`` measured by
    :func:`~art_restore.detect.veil_strength`: ``x = (y − a·veil) / (1 − a)``. Returns the image
    and ``a``; the image unchanged and ``a = 0`` when no veil is measured."""
    a = veil_strength(image, veil)
    if a <= 0:
        return image, 0.0
    out = (image.astype(np.float32) - a * veil) / (1 - a)
    return np.clip(out, 0, 255).round().astype(np.uint8), a


# The dulling undone only from this strength (the damage generator's weakest is 0.25), and only
# on images with colour left (:func:`colourfulness`): dulling a grey image only lowers its
# contrast, which a flat original has too. Chosen on crops of the training images
# (`tools/tune_expert_checks.py dull`).
DULL_MIN, COLOUR_MIN = 0.3, 0.05
# Above this the measure is not a dulling (the generator's strongest is 0.75) but an image that
# never reached the gamut, and undoing it would multiply colour differences many times over.
DULL_MAX = 0.8
# kinds that also keep an image from the gamut's edge: where one is found, dullness is not judged
NOT_DULL = ("fade", "water_damage", "blur", "motion_blur", "pixelate")


def colourfulness(image: np.ndarray) -> float:
    """The saturation (max − min of R, G, B, in 0..1) that 1% of ``image``'s pixels exceed."""
    step = max(1, int(np.sqrt(image.shape[0] * image.shape[1] / 65536)))
    saturation = np.ptp(image[::step, ::step].reshape(-1, 3).astype(np.int16), axis=-1)
    return float(np.quantile(saturation, 0.99)) / 255


def remove_dullness(image: np.ndarray) -> tuple[np.ndarray, float]:
    """Undo a dulling (:func:`art_restore.degrade.dull`) of the strength
    :func:`~art_restore.detect.dull_strength` measures, where it lies within ``DULL_MIN`` and
    ``DULL_MAX`` on an image with colour (``colourfulness`` ≥ ``COLOUR_MIN``). Returns the image
    and the strength measured. Where nothing is undone the image itself (the same object) comes
    back, with 0, or with the strength where it exceeds ``DULL_MAX`` (declined: not a dulling);
    images under ``MIN_SIDE`` pixels a side, as for the detector, are not measured."""
    if min(image.shape[:2]) < MIN_SIDE or colourfulness(image) < COLOUR_MIN:
        return image, 0.0
    a = dull_strength(image)
    if a < DULL_MIN:
        return image, 0.0
    if a > DULL_MAX:
        return image, a
    out = undull(image.astype(np.float32), a)
    return np.clip(out, 0, 255).round().astype(np.uint8), a


def depixelate(image: np.ndarray) -> np.ndarray:
    """``image`` (``uint8 [H, W, 3]``) with pixelation's blocks replaced by a bicubic surface
    through the blocks' centres (blocks of unequal sizes allowed)."""
    grid = block_grid(image)
    h, w = image.shape[:2]
    xs = np.concatenate([[-1], grid.xs, [w - 1]])  # block k spans xs[k] + 1 .. xs[k + 1]
    ys = np.concatenate([[-1], grid.ys, [h - 1]])
    cx, cy = (xs[:-1] + xs[1:] + 1) / 2, (ys[:-1] + ys[1:] + 1) / 2  # centres
    small = image[np.clip(cy.astype(int), 0, h - 1)][:, np.clip(cx.astype(int), 0, w - 1)]
    # every pixel's fractional position among the block centres
    u = np.interp(np.arange(w), cx, np.arange(len(cx))).astype(np.float32)
    v = np.interp(np.arange(h), cy, np.arange(len(cy))).astype(np.float32)
    map_x, map_y = np.meshgrid(u, v)
    out = cv2.remap(
        small.astype(np.float32), map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    return np.clip(out, 0, 255).round().astype(np.uint8)


# how each kind of line changed the paint: cracks darken it, rain's streaks lighten it, so a
# repair may only lighten a crack's pixels and darken a streak's
LINES = {"cracks": (crack_mask, np.maximum), "rain": (rain_mask, np.minimum)}


def repair_lines(
    model: ResidualRestorer, image: np.ndarray, kinds: tuple[str, ...] = ("cracks",)
) -> tuple[np.ndarray, float]:
    """The network's output on the pixels of the thin lines of ``kinds`` (``cracks``:
    :func:`~art_restore.detect.crack_mask`; ``rain``: :func:`~art_restore.detect.rain_mask`),
    grown by one pixel to take the lines' anti-aliased rims, and only in the direction that
    undoes the kind (:data:`LINES`; where both kinds' lines cross, the last kind's rule holds);
    the input everywhere else. Returns the image and the share of pixels repaired."""
    grey = _luma(image)
    out, repaired = image.copy(), np.zeros(grey.shape, bool)
    network = None
    for kind in kinds:
        find, undo = LINES[kind]
        mask = cv2.dilate(find(grey).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        if mask.any():
            if network is None:
                network = restore_residual(model, image, tone=False)
            out[mask] = undo(network[mask], image[mask])
            repaired |= mask
    return out, float(repaired.mean())


# Bumped whenever restore_guarded's routing changes, so that a batch started under other rules
# does not resume with outputs made under both (see :func:`rules_fingerprint`).
ROUTING = 2


def rules_fingerprint() -> str:
    """SHA-256 of the routing's version and every threshold and setting of the experts and of the
    measures they take (the constants of this module, :mod:`art_restore.detect` and
    :mod:`art_restore.degrade`, arrays and tables included, functions left out): part of a
    batch's recorded settings, as the detector's and networks' fingerprints are."""
    import hashlib
    import json

    from art_restore import degrade, detect

    def plain(value):
        if isinstance(value, np.ndarray | np.generic):
            return value.tolist()
        raise TypeError(type(value).__name__)

    rules = {}
    for name, value in {**vars(degrade), **vars(detect), **globals()}.items():
        if not name.isupper() or callable(value):
            continue
        try:
            rules[name] = json.dumps(value, sort_keys=True, default=plain)
        except TypeError:  # a table of functions (the damage generator's kinds)
            continue
    return hashlib.sha256(json.dumps(rules, sort_keys=True).encode()).hexdigest()


def restore_guarded(
    model: ResidualRestorer, detector: DamageDetector, image: np.ndarray
) -> tuple[np.ndarray, dict]:
    """``uint8 [H, W, 3]`` → (restored image, report). When no expert acts the output is a copy of
    the input, bit for bit."""
    evidence = detector.evidence(image)
    found = detector.found(evidence)
    report: dict = {"detected": {k: round(p, 3) for k, p in found.items()}, "experts": []}
    experts = report["experts"]
    out = image
    if "pixelate" in found:
        out = depixelate(out)
        experts.append({"expert": "depixelate", "kinds": ["pixelate"], "share": 1.0})
    if "fade" in found:
        out, strength = remove_veil(out)
        if strength > 0:
            experts.append({"expert": "remove_veil", "kinds": ["fade"],
                            "veil": round(strength, 3), "share": 1.0})  # fmt: skip
    # water stains where the detector found them, or half believes it, and the stain model finds
    # a tide line longer than clean paint holds (run where the detector gave no evidence at all,
    # the same check altered a clean held-out photograph and two dulled ones); before dullness,
    # which stains also measure (on training crops undoing it first took 13 of 68 stained crops
    # that the stain removal gains on)
    likely = evidence.get("water_damage", 0.0) >= STAIN_EVIDENCE
    if ("water_damage" in found or likely) and model.stains is not None:
        restored, opacity, tide = remove_stains(model.stains, out)
        entry = {"expert": "stain_removal", "kinds": ["water_damage"],
                 "evidence": round(evidence["water_damage"], 3),
                 "opacity": round(float(opacity.max()), 3), "tide": round(tide_share(tide), 4)}  # fmt: skip
        if entry["tide"] >= TIDE_EVIDENCE:
            out = restored
            share = float(((opacity > 0.02) | (tide > 0.02)).mean())
            experts.append({**entry, "share": round(share, 4)})
        else:
            report.setdefault("declined", []).append({**entry, "reason": "no tide line"})
    if not set(found) & set(NOT_DULL) and not any(e["kinds"] == ["water_damage"] for e in experts):
        restored, dulling = remove_dullness(out)
        entry = {"expert": "remove_dullness", "kinds": ["dull"], "dulling": round(dulling, 3)}
        if restored is not out:
            out = restored
            experts.append({**entry, "share": 1.0})
        elif dulling > 0:
            reason = f"stronger than a dulling can be (above {DULL_MAX})"
            report.setdefault("declined", []).append({**entry, "reason": reason})
    kinds = [k for k in (*NETWORK_KINDS, *LINE_KINDS) if k in found]
    if set(kinds) - set(LINE_KINDS):  # the whole-image network repairs the lines too
        out = restore_residual(model, out, tone=False)
        experts.append({"expert": "network", "kinds": kinds, "share": 1.0})
    elif kinds:
        out, share = repair_lines(model, out, tuple(kinds))
        if share > 0:
            experts.append({"expert": "network_on_lines", "kinds": kinds, "share": round(share, 4)})
    if "motion_blur" in found:  # after the network, so that noise is not amplified
        grey = _luma(centre(out, MAX_SIDE))
        motion = motion_blur_estimate(grey)
        out = wiener_deconvolve(out, motion_kernel(motion.length, motion.angle))
        experts.append({"expert": "wiener", "kinds": ["motion_blur"], "length": motion.length,
                        "angle": round(motion.angle, 1), "share": 1.0})  # fmt: skip
    if "blur" in found:  # after the network, so that noise is not sharpened
        grey = _luma(centre(out, MAX_SIDE))
        sigma = GAUSSIAN_SHRINK * gaussian_blur_estimate(grey)
        if sigma >= 0.5:  # narrower than that, nothing to undo
            radius = int(np.ceil(3 * sigma))
            line = cv2.getGaussianKernel(2 * radius + 1, sigma)
            out = wiener_deconvolve(out, line @ line.T, GAUSSIAN_BALANCE)
            experts.append({"expert": "wiener", "kinds": ["blur"], "sigma": round(sigma, 2),
                            "share": 1.0})  # fmt: skip
    if "radial_blur" in found:
        h, w = out.shape[:2]
        zoom = zoom_blur_estimate(_luma(_at_most(out, MAX_SIDE)))
        entry = {"expert": "zoom_deblur", "kinds": ["radial_blur"],
                 "centre": [round(zoom.cx, 3), round(zoom.cy, 3)], "zoom": ZOOM_STRENGTH,
                 "detail_before": round(zoom.score, 3)}  # fmt: skip
        if max(h, w) >= ZOOM_MAX_SIDE:  # OpenCV's warps stop there
            report.setdefault("declined", []).append(
                {**entry, "reason": f"a side of {ZOOM_MAX_SIDE} px or more"}
            )
        else:
            deblurred = deblur_zoom(out, zoom.cx * w, zoom.cy * h)
            after = zoom_blur_estimate(_luma(_at_most(deblurred, MAX_SIDE)), (zoom.cx, zoom.cy))
            entry["detail_after"] = round(after.score, 3)
            if after.score < ZOOM_ACCEPT:
                out = deblurred
                experts.append({**entry, "share": 1.0})
            else:
                report.setdefault("declined", []).append(
                    {**entry, "reason": "detail across the rays afterwards"}
                )
    repaired = {k for e in experts for k in e["kinds"]}
    report["unrepaired"] = sorted(set(found) - repaired)
    return (out.copy() if out is image else out), report
