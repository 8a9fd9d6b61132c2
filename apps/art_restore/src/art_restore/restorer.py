"""Loading and running a restorer: the shipped residual restorer (:mod:`art_restore.residual`,
the default), a model folder trained by ``art-restore train``, or a diffusion model of
``affine-sr`` used at scale 1 (``superres``: the ×4 weights, not fine-tuned; a reference point,
sampled with the ``--steps``/``--fidelity`` options)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from affine_sr.checkpoint import load_model
from affine_sr.model import AffineSR
from affine_sr.pipeline import upscale_image
from art_restore.options import DEFAULTS
from art_restore.residual import ResidualRestorer, restore_residual

__all__ = ["DEFAULTS", "load_restorer", "restore_image", "shipped_restorer"]


def shipped_restorer() -> Path:
    return Path(__file__).parent / "pretrained" / "default"


def load_restorer(
    path: str | os.PathLike = "default", device: str = "cpu", detector: bool = True
) -> ResidualRestorer | AffineSR:
    """``default`` (the shipped restorer), ``superres`` (the ×4 super-resolution diffusion
    model, not fine-tuned) or a model folder (``art-restore train`` output or an affine-sr
    model). ``detector=False`` ignores a residual restorer's damage detector: the network then
    runs on every image."""
    if str(path) == "superres":
        return load_model("default", device)
    folder = shipped_restorer() if str(path) == "default" else Path(path)
    config = folder / "config.json"
    try:
        kind = json.loads(config.read_text()).get("_class_name") if config.is_file() else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError(f"{config} is not valid JSON") from None
    if kind == ResidualRestorer.__name__:
        model = ResidualRestorer.load(folder, device)
        if not detector:
            model.detector = None
        return model
    return load_model(folder, device)


def restore_image(
    model: ResidualRestorer | AffineSR, image: np.ndarray, seed: int = 0, **options
) -> np.ndarray:
    """``uint8 [H, W, 3]`` → restored image of the same size. ``options`` (defaults:
    :data:`DEFAULTS`) are the sampling options of a diffusion model; the residual restorer is
    deterministic and takes none. A residual restorer with a damage detector (the shipped one)
    routes the image to its experts and returns it unchanged when no damage is measured
    (:func:`art_restore.experts.restore_guarded`)."""
    if isinstance(model, ResidualRestorer):
        if model.detector is not None:
            from art_restore.experts import restore_guarded

            return restore_guarded(model, model.detector, image)[0]
        return restore_residual(model, image)
    return upscale_image(model, image, scale=1, seed=seed, **{**DEFAULTS, **options})
