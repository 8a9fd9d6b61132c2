"""Replacement methods: what goes where a face or a plate was.

Every method works on a window around each box and blends its result in with a feathered mask:
fully replaced inside the region (an ellipse for faces, the rectangle for plates), fading out over a
few pixels outside it, so no seam shows and no original pixel of the region survives.

References: Telea, "An Image Inpainting Technique Based on the Fast Marching Method" (2004);
Rombach et al., "High-Resolution Image Synthesis with Latent Diffusion Models", arXiv:2112.10752.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image

from anonymizer.config import DEFAULT_NEGATIVE, DEFAULT_PROMPTS, METHODS, check_sd_model
from anonymizer.detections import Detection

__all__ = [
    "DEFAULT_PROMPTS",
    "METHODS",
    "PatchReplacer",
    "Replacer",
    "SDInpainter",
    "build_replacer",
    # defined in anonymizer.config (which imports nothing heavy), importable from here too
    "DEFAULT_NEGATIVE",
    "check_sd_model",
    "region_alpha",
]

log = logging.getLogger(__name__)


Replacer = Callable[[np.ndarray, list[Detection]], np.ndarray]
"""``replace(image [H, W, 3] uint8 RGB, detections) -> new image``; the input is not modified."""


def window(det: Detection, shape: tuple[int, ...], pad: float = 0.5) -> tuple[int, int, int, int]:
    """The box grown by ``pad`` of its larger side on every side, clipped to the image."""
    height, width = shape[:2]
    x0, y0, x1, y1 = det.box
    p = max(4, int(pad * max(det.width, det.height)))
    return max(0, x0 - p), max(0, y0 - p), min(width, x1 + p), min(height, y1 + p)


def region_alpha(
    det: Detection, win: tuple[int, int, int, int], shape: tuple[int, ...]
) -> np.ndarray:
    """Blend weights ``[h, w]`` float32 over the window: 1 on the region, feathered outside it.
    A face touching the frame's edge is cut by it, so its ellipse would leave the widest part of
    the face out: such faces get the whole rectangle."""
    wx0, wy0, wx1, wy1 = win
    hard = np.zeros((wy1 - wy0, wx1 - wx0), np.uint8)
    x0, y0, x1, y1 = (det.box[0] - wx0, det.box[1] - wy0, det.box[2] - wx0, det.box[3] - wy0)
    height, width = shape[:2]
    cut = det.box[0] <= 0 or det.box[1] <= 0 or det.box[2] >= width or det.box[3] >= height
    if det.points is not None:  # the region's own outline (a plate's corners)
        outline = np.round(np.asarray(det.points) - [wx0, wy0]).astype(np.int32)
        cv2.fillPoly(hard, [outline], 255)
    elif det.label == "face" and not cut:
        center = ((x0 + x1 - 1) / 2, (y0 + y1 - 1) / 2)
        cv2.ellipse(hard, (center, (x1 - x0, y1 - y0), 0), 255, -1)
    else:
        hard[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)] = 255
    feather = max(2, int(0.08 * min(det.width, det.height)))
    grown = cv2.dilate(hard, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * feather + 1,) * 2))
    soft = cv2.GaussianBlur(grown.astype(np.float32) / 255, (0, 0), feather / 2)
    # The region itself stays fully replaced: feathering only ever widens it.
    return np.maximum(hard.astype(np.float32) / 255, soft)


def _blend(out: np.ndarray, win, patch: np.ndarray, alpha: np.ndarray) -> None:
    x0, y0, x1, y1 = win
    region = out[y0:y1, x0:x1].astype(np.float32)
    a = alpha[..., None]
    out[y0:y1, x0:x1] = np.clip(a * patch + (1 - a) * region + 0.5, 0, 255).astype(np.uint8)


def _blur(crop: np.ndarray, alpha: np.ndarray, det: Detection) -> np.ndarray:
    """A Gaussian blur with sigma a fifth of the region's size, computed at a reduced size (the
    result is as smooth, and a wide kernel at full size costs hundreds of ms per face)."""
    h, w = crop.shape[:2]
    scale = min(1.0, 32 / max(det.width, det.height))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    sigma = max(2.0, 0.2 * max(det.width, det.height)) * scale
    small = cv2.GaussianBlur(small, (0, 0), sigma)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)


def _pixelate(crop: np.ndarray, alpha: np.ndarray, det: Detection) -> np.ndarray:
    block = max(2, max(det.width, det.height) // 6)
    h, w = crop.shape[:2]
    small = cv2.resize(crop, (max(1, w // block), max(1, h // block)), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST).astype(np.float32)


def _solid(crop: np.ndarray, alpha: np.ndarray, det: Detection) -> np.ndarray:
    return np.zeros_like(crop, np.float32)


def _cv_inpaint(crop: np.ndarray, alpha: np.ndarray, det: Detection) -> np.ndarray:
    """OpenCV's Telea inpainting from the window's border inwards. Large regions are filled at a
    reduced size (the fill is smooth anyway), which keeps a 1080p frame with big faces fast."""
    h, w = crop.shape[:2]
    scale = min(1.0, 96 / max(det.width, det.height))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    mask = cv2.resize((alpha > 0.01).astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    filled = cv2.inpaint(small, mask, 3, cv2.INPAINT_TELEA)
    return cv2.resize(filled, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)


PATCHES = {"cv-inpaint": _cv_inpaint, "blur": _blur, "pixelate": _pixelate, "solid": _solid}


class PatchReplacer:
    """Replacement computed window by window from the image itself (no model)."""

    def __init__(self, method: str):
        if method not in PATCHES:
            raise ValueError(f"method must be one of {tuple(PATCHES)}, got {method!r}")
        self.name, self.patch = method, PATCHES[method]

    def __call__(self, image: np.ndarray, detections: list[Detection]) -> np.ndarray:
        out = image.copy()
        for det in detections:
            win = window(det, out.shape)
            x0, y0, x1, y1 = win
            alpha = region_alpha(det, win, out.shape)
            _blend(out, win, self.patch(out[y0:y1, x0:x1], alpha, det), alpha)
        return out


class SDInpainter:
    """Stable Diffusion inpainting (diffusers) from a local pipeline folder.

    Each region is inpainted in a square context window resized to ``size`` pixels; the prompt
    depends on the class. Nothing is downloaded: ``model`` must be a folder written by
    ``save_pretrained`` (with ``model_index.json``), e.g. a copy of an SD 1.5 or 2 inpainting model.
    """

    name = "sd-inpaint"

    def __init__(
        self,
        model: str | os.PathLike,
        device: str = "cpu",
        steps: int = 25,
        guidance: float = 7.5,
        size: int = 512,
        prompts: dict[str, str] | None = None,
        negative_prompt: str = DEFAULT_NEGATIVE,
        seed: int = 0,
        batch_size: int = 4,
    ):
        model = check_sd_model(model)
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        if size < 64 or size % 8:
            raise ValueError(f"sd size must be a multiple of 8 and >= 64, got {size}")
        import torch

        try:
            from diffusers import AutoPipelineForInpainting
        except ImportError:
            raise RuntimeError(
                'SD inpainting needs diffusers: pip install "anonymizer[sd]"'
            ) from None
        self.device = torch.device(device)
        dtype = torch.float16 if self.device.type == "cuda" else torch.float32
        try:
            pipe = AutoPipelineForInpainting.from_pretrained(
                model,
                dtype=dtype,
                local_files_only=True,
                safety_checker=None,
                requires_safety_checker=False,
            )
        except (OSError, ValueError, KeyError) as err:
            reason = f"no {err} entry" if isinstance(err, KeyError) else str(err).splitlines()[0]
            raise ValueError(
                f"--sd-model {model}: not a loadable diffusers inpainting pipeline folder "
                f"({reason}); it needs model_index.json and its component folders"
            ) from None
        pipe.set_progress_bar_config(disable=True)
        self.pipe = pipe.to(self.device)
        self.steps, self.guidance, self.size = steps, guidance, size
        self.prompts = {**DEFAULT_PROMPTS, **(prompts or {})}
        self.negative_prompt, self.seed, self.batch_size = negative_prompt, seed, batch_size

    def _window(self, det: Detection, shape) -> tuple[tuple[int, int, int, int], tuple[int, int]]:
        """The context window around a region and the size (w, h) SD works on: a square with the
        region in its middle third where the image allows; for a region too large for any square
        inside the image (a close-up), a rectangle around it, so no part is left out."""
        height, width = shape[:2]
        side = min(max(3 * max(det.width, det.height), 64), width, height)
        if side >= max(det.width, det.height):
            cx, cy = (det.box[0] + det.box[2]) // 2, (det.box[1] + det.box[3]) // 2
            x0 = min(max(0, cx - side // 2), width - side)
            y0 = min(max(0, cy - side // 2), height - side)
            return (x0, y0, x0 + side, y0 + side), (self.size, self.size)
        win = window(det, shape, pad=0.1)
        w, h = win[2] - win[0], win[3] - win[1]
        scale = self.size / max(w, h)
        return win, (max(64, round(w * scale / 8) * 8), max(64, round(h * scale / 8) * 8))

    def __call__(self, image: np.ndarray, detections: list[Detection]) -> np.ndarray:
        import torch

        out = image.copy()
        generator = torch.Generator("cpu").manual_seed(self.seed)
        groups: dict[tuple[int, int], list] = {}
        for det in detections:
            win, size = self._window(det, out.shape)
            groups.setdefault(size, []).append((det, win, region_alpha(det, win, out.shape)))
        for (tw, th), items in groups.items():
            for start in range(0, len(items), self.batch_size):
                chunk = items[start : start + self.batch_size]
                crops, masks = [], []
                for _, (x0, y0, x1, y1), alpha in chunk:
                    crop = cv2.resize(out[y0:y1, x0:x1], (tw, th), interpolation=cv2.INTER_AREA)
                    mask = cv2.resize((alpha > 0.01).astype(np.uint8) * 255, (tw, th))
                    crops.append(Image.fromarray(crop))
                    masks.append(Image.fromarray(np.where(mask > 0, 255, 0).astype(np.uint8)))
                result = self.pipe(
                    prompt=[self.prompts[det.label] for det, _, _ in chunk],
                    negative_prompt=[self.negative_prompt] * len(chunk),
                    image=crops,
                    mask_image=masks,
                    height=th,
                    width=tw,
                    num_inference_steps=self.steps,
                    guidance_scale=self.guidance,
                    generator=generator,
                    output_type="np",
                ).images
                for (_, win, alpha), generated in zip(chunk, result):
                    x0, y0, x1, y1 = win
                    patch = cv2.resize(
                        np.clip(generated * 255, 0, 255).astype(np.float32),
                        (x1 - x0, y1 - y0),
                        interpolation=cv2.INTER_AREA,
                    )
                    _blend(out, win, patch, alpha)
        return out


def build_replacer(method: str, sd_model: str | None = None, **sd_options) -> Replacer:
    """The replacement ``method`` (one of :data:`METHODS`); ``sd-inpaint`` needs ``sd_model``."""
    if method == "sd-inpaint":
        return SDInpainter(check_sd_model(sd_model), **sd_options)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return PatchReplacer(method)
