"""The restorer: the Affine-StableSR model used at scale 1 (the damaged photograph is the
"low-resolution" input), fine-tuned from the superres weights on mixed damage, so one model
handles every kind instead of a chain of specialised restorers whose order matters.

Unlike super-resolution, where the upscaled input's fine detail is clean and kept, damage (noise,
scratches, cracks, rain) lives in the fine detail too: the restorer's prior is made *full-code*
(:meth:`AffineSR.with_full_code`: it generates the detail channels as well) and trained with a
pixel loss on its clean estimate besides the diffusion loss; fidelity 0 (the default) uses the
generated detail only, 1 the damaged input's."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import torch

from affine_sr.data import PairedCrops
from affine_sr.model import AffineSR, load_model
from affine_sr.pipeline import upscale_image
from affine_sr.train import set_latent_scales, train_autoencoder, train_prior
from art_restore.degrade import compose, random_recipe

__all__ = ["DEFAULTS", "damaged_crops", "finetune", "load_restorer", "restore_image"]

log = logging.getLogger("art_restore")

# sampling settings of `restore` and `evaluate` unless given
# (tiles of 256 input pixels: at scale 1 the same memory as 64-pixel tiles at ×4)
DEFAULTS = {"steps": 1, "fidelity": 0.0, "color": "none", "tile": 256, "overlap": 32}


def shipped_restorer() -> Path:
    return Path(__file__).parent / "pretrained" / "default"


def load_restorer(path: str | os.PathLike = "default", device: str = "cpu") -> AffineSR:
    """A model folder (``art-restore train`` output), ``default`` (the shipped restorer) or
    ``superres`` (the ×4 super-resolution weights, not fine-tuned: a reference point)."""
    if str(path) == "superres":
        return load_model("default", device)
    return load_model(shipped_restorer() if str(path) == "default" else path, device)


def restore_image(model: AffineSR, image: np.ndarray, seed: int = 0, **options) -> np.ndarray:
    """``uint8 [H, W, 3]`` → restored image of the same size; ``options`` as
    :func:`affine_sr.pipeline.upscale_image` (defaults: :data:`DEFAULTS`)."""
    return upscale_image(model, image, scale=1, seed=seed, **{**DEFAULTS, **options})


def damaged_crops(
    images: list[np.ndarray],
    crop: int = 128,
    clean: float = 0.1,
    length: int = 800,
    seed: int = 0,
    max_kinds: int = 3,
) -> PairedCrops:
    """Crops of clean artworks paired with a random mix of 1 to ``max_kinds`` kinds of damage
    (``clean``: the share left undamaged, so the restorer learns to leave good areas alone)."""

    def damage(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if rng.random() < clean:
            return image.copy()
        return compose(image, random_recipe(rng, max_kinds), seed=rng)

    return PairedCrops(images, crop, scale=1, length=length, seed=seed, degrade=damage)


def finetune(
    model: AffineSR,
    dataset: PairedCrops,
    out_dir: str | os.PathLike,
    ae_steps: int = 0,
    prior_steps: int = 1500,
    batch_size: int = 8,
    device: str = "cpu",
    save_every: int = 250,
    resume: bool = False,
    progress: bool = True,
    pixel_weight: float = 30.0,
    last_step_share: float = 0.5,
) -> AffineSR:
    """Fine-tune ``model`` at scale 1 (made full-code first if it is not): optionally the
    autoencoder (``ae_steps``; a clean image must come back from its latent with the damaged
    image's detail), then the prior and its conditioning with ``pixel_weight`` and
    ``last_step_share`` (see :meth:`AffineSR.training_loss`). Writes ``out_dir/autoencoder`` and ``out_dir/model``;
    returns the fine-tuned model."""
    out_dir = Path(out_dir)
    model = (model if model.full_code else model.with_full_code()).to(device)
    if ae_steps:
        model.autoencoder.requires_grad_(True)
        train_autoencoder(
            model.autoencoder,
            dataset,
            out_dir / "autoencoder",
            ae_steps,
            batch_size,
            learning_rate=3e-4,
            device=device,
            save_every=save_every,
            resume=resume,
            progress=progress,
        )
    loader = torch.utils.data.DataLoader(dataset, batch_size)
    set_latent_scales(model, loader, scale=1)
    train_prior(
        model,
        dataset,
        out_dir / "model",
        prior_steps,
        batch_size,
        device=device,
        save_every=save_every,
        resume=resume,
        progress=progress,
        pixel_weight=pixel_weight,
        last_step_share=last_step_share,
    )
    return model.eval()
