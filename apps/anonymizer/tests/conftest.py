"""Fixtures: a real face photograph, synthetic street scenes, and a tiny randomly initialised Stable
Diffusion inpainting pipeline saved to a local folder (built from configs, nothing downloaded)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from anonymizer.synth import street_scene


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


@pytest.fixture
def dataset(tmp_path, astronaut) -> Path:
    """A folder as users have them: a face photo, a street scene in a subfolder, a corrupt JPEG,
    a truncated JPEG and a text file."""
    root = tmp_path / "data"
    (root / "cam1").mkdir(parents=True)
    Image.fromarray(astronaut).save(root / "astronaut.png")
    scene, _ = street_scene(1, (1920, 1080))
    Image.fromarray(scene).save(root / "cam1" / "scene.jpg", quality=95)
    (root / "cam1" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    whole = (root / "cam1" / "scene.jpg").read_bytes()
    (root / "cam1" / "truncated.jpg").write_bytes(whole[: len(whole) // 3])
    (root / "notes.txt").write_text("not an image")
    return root


@pytest.fixture(scope="session")
def tiny_sd(tmp_path_factory) -> Path:
    """A randomly initialised SD inpainting pipeline at toy size, saved with save_pretrained."""
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        StableDiffusionInpaintPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    # A character-level vocabulary: every printable ASCII character, alone and word-final.
    chars = [chr(c) for c in range(33, 127)]
    vocab = chars + [c + "</w>" for c in chars] + ["<|startoftext|>", "<|endoftext|>"]
    tokenizer = CLIPTokenizer(
        vocab={t: i for i, t in enumerate(vocab)}, merges=[], model_max_length=32
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(vocab),
            bos_token_id=len(vocab) - 2,
            eos_token_id=len(vocab) - 1,
            hidden_size=16,
            intermediate_size=32,
            num_attention_heads=2,
            num_hidden_layers=2,
            max_position_embeddings=32,
            projection_dim=16,
        )
    )
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=8,
        in_channels=9,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16,
        norm_num_groups=4,
        attention_head_dim=2,
    )
    vae = AutoencoderKL(
        block_out_channels=(8, 16),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        latent_channels=4,
        norm_num_groups=4,
        sample_size=16,
    )
    pipe = StableDiffusionInpaintPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=DDIMScheduler(steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    folder = tmp_path_factory.mktemp("tiny-sd-inpainting")
    pipe.save_pretrained(folder)
    return folder
