"""Cleaning a degraded input before super-resolution: JPEG deblocking from the file's own
quantisation table, and (for inputs declared degraded) denoising.

A JPEG keeps each 8×8 block's cosine coefficients of luma only to the nearest multiple of its
quantisation step, which leaves blocks and ringing that an upscaler trained on clean reductions
sharpens. :func:`deblock` smooths the luma with an edge-preserving (bilateral) filter as strong as
the table's DC step, then puts every block's coefficients back inside the quantisation interval
the file recorded (a projection onto the set of images the file could have come from, as in
projection-onto-convex-sets deblocking): the smoothing removes the blocks and ringing, the
projection restores the detail the file proves was there. Colour follows the luma (chroma is
unchanged).

Measured on the training photographs' ×4 reductions saved as JPEG (OpenCV, 4:2:0), the shipped
model's PSNR-Y gain from deblocking first: +0.45, +0.42, +0.30, +0.06, +0.01 dB at qualities 30,
50, 70, 90, 95 (the filter's strength as a share of the DC step, 1.0, chosen there among 0.6-1.3;
`tools/tune_sr_cleanup.py deblock`).

:func:`remove_noise` is non-local means (OpenCV) with a strength of 1.5 times the noise level measured
in the luma (Immerkær's estimate): on the training photographs' reductions under the Real-ESRGAN
second-order degradation (blur, resize, noise, JPEG, twice) it took the shipped model from
−0.58 to +0.31 dB over bicubic, and with deblocking after it (as at quality 75) to +0.49 dB;
strengths 0.5, 1 and 2 gave −0.17, +0.32, +0.43 with deblocking (`tools/tune_sr_cleanup.py
denoise`). It costs clean inputs dearly (with deblocking, +1.55 → −0.24 dB), so only
`--degradation real` runs it.
"""

from __future__ import annotations

import os

import cv2
import numpy as np

__all__ = ["deblock", "ijg_table", "luminance_table", "remove_noise"]

# the luminance table of the JPEG standard (Annex K), which libjpeg scales by quality
_ANNEX_K = np.array(
    [[16, 11, 10, 16, 24, 40, 51, 61], [12, 12, 14, 19, 26, 58, 60, 55],
     [14, 13, 16, 24, 40, 57, 69, 56], [14, 17, 22, 29, 51, 87, 80, 62],
     [18, 22, 37, 56, 68, 109, 103, 77], [24, 35, 55, 64, 81, 104, 113, 92],
     [49, 64, 78, 87, 103, 121, 120, 101], [72, 92, 95, 98, 112, 100, 103, 99]], np.float64
)  # fmt: skip
# the orthonormal 8-point DCT-II, which JPEG's transform equals
_DCT = np.array(
    [[np.sqrt((1 if k == 0 else 2) / 8) * np.cos((2 * n + 1) * k * np.pi / 16) for n in range(8)]
     for k in range(8)]
)  # fmt: skip
_LUMA = np.array([0.299, 0.587, 0.114])  # JPEG's Y (full range)
STRENGTH = 1.0  # the bilateral filter's range sigma, as a share of the table's DC step
STRIP = 256  # pixel rows (whole blocks) projected at a time
DENOISE = 1.5  # non-local means' strength, as a multiple of the measured noise level


def ijg_table(quality: int) -> np.ndarray:
    """``[8, 8]`` luminance quantisation steps libjpeg (OpenCV, Pillow) writes at ``quality``."""
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be in 1..100, got {quality}")
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality  # libjpeg's integer maths
    return np.clip(np.floor((_ANNEX_K * scale + 50) / 100), 1, 255)


def luminance_table(path: str | os.PathLike) -> np.ndarray | None:
    """The ``[8, 8]`` luminance quantisation table of the JPEG file at ``path``: the table of its
    first (luma) component. None for another format, a JPEG not coded as YCbCr or grey (CMYK,
    Adobe RGB), one stored turned (an EXIF orientation other than upright: the image is turned
    when read, and its blocks with it) or one whose table cannot be read."""
    from PIL import Image, JpegImagePlugin

    try:
        with Image.open(path) as image:
            if not isinstance(image, JpegImagePlugin.JpegImageFile):  # also MPO (multi-picture)
                return None
            if image.mode not in ("L", "RGB"):
                return None
            if image.mode == "RGB" and image.info.get("adobe_transform") == 0:  # RGB, not YCbCr
                return None
            if image.getexif().get(0x0112, 1) in range(2, 9):  # turned or mirrored
                return None
            table = image.quantization.get(image.layer[0][3])
    except Exception:  # any file Pillow cannot describe (damaged, too large): no table
        return None
    if table is None or len(table) != 64:
        return None
    table = np.asarray(table, np.float64).reshape(8, 8)  # natural order (Pillow ≥ 8)
    return table if (table >= 1).all() else None


def _blockwise(values: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``matrix · B · matrixᵀ`` for every 8×8 block ``B`` of ``values`` ``[8a, 8b]``."""
    h, w = values.shape
    blocks = values.reshape(h // 8, 8, w // 8, 8)
    matrix = matrix.astype(values.dtype)
    out = np.einsum("ij,ajbk,lk->aibl", matrix, blocks, matrix)
    return out.reshape(h, w)


def deblock(image: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``image`` (``uint8 [H, W, 3]`` RGB, decoded from a JPEG whose luminance steps were
    ``table`` ``[8, 8]``) with its blocks and ringing smoothed out of the luma, every whole 8×8
    block kept within what the file recorded (a partial block at the right or bottom edge is
    only smoothed). The intervals are those of ``image`` itself: after :func:`remove_noise`
    (``--degradation real``) those of the denoised image, a quantisation-aware smoothing rather
    than a projection onto the file's images (measured so, see the module's docstring)."""
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB image [H, W, 3], got shape {list(image.shape)}")
    table = np.asarray(table, np.float64)
    if table.shape != (8, 8) or not (table >= 1).all():
        raise ValueError("a quantisation table is 8×8 steps of at least 1")
    luma = image.astype(np.float32) @ _LUMA.astype(np.float32)
    sigma = STRENGTH * float(table[0, 0])
    smooth = cv2.bilateralFilter(luma, 5, sigma, 2)
    h, w = (s - s % 8 for s in luma.shape)
    for top in range(0, h, STRIP):  # strips of whole blocks bound the float copies' memory
        rows = slice(top, min(top + STRIP, h))
        steps = np.tile(table.astype(np.float32), ((rows.stop - top) // 8, w // 8))
        recorded = np.round(_blockwise(luma[rows, :w] - 128, _DCT) / steps)
        coefficients = _blockwise(smooth[rows, :w] - 128, _DCT)
        coefficients = np.clip(coefficients, (recorded - 0.5) * steps, (recorded + 0.5) * steps)
        smooth[rows, :w] = _blockwise(coefficients, _DCT.T) + 128
    out = image.astype(np.float32)
    out += (smooth - luma)[..., None]  # the luma's change, colour kept
    return np.round(np.clip(out, 0, 255, out=out), out=out).astype(np.uint8)


def remove_noise(image: np.ndarray) -> np.ndarray:
    """``image`` (``uint8 [H, W, 3]`` RGB) denoised by non-local means as strong as ``DENOISE``
    times the noise level measured in its luma; the image itself where none is measured. (OpenCV
    takes the colours as BGR; they are given as RGB, as when the strength was chosen, which only
    changes how its Lab conversion weighs red and blue.)"""
    from affine_sr.metrics import noise_sigma

    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB image [H, W, 3], got shape {list(image.shape)}")
    strength = DENOISE * noise_sigma(image.astype(np.float32) @ _LUMA.astype(np.float32))
    if strength <= 0:
        return image
    return cv2.fastNlMeansDenoisingColored(image, None, strength, strength, 3, 11)
