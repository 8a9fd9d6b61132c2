"""The shipped default model: loads offline and beats bicubic on held-out images."""

import re

import numpy as np
import pytest

from affine_sr.data import HELD_OUT, sample_images
from affine_sr.degradations import bicubic_downscale, bicubic_upscale
from affine_sr.evaluate import parameter_counts
from affine_sr.metrics import psnr
from affine_sr.model import load_model, shipped_model
from affine_sr.pipeline import upscale_image


@pytest.fixture(scope="module")
def model():
    return load_model("default")


def test_the_default_model_beats_bicubic_on_held_out_crops(model):
    images = sample_images()
    gains = []
    for name in HELD_OUT:
        hr = images[name][:192, :192]
        lr = bicubic_downscale(hr, 4)
        ours = upscale_image(model, lr, 4)  # the command line's defaults
        gains.append(psnr(ours, hr, crop=4) - psnr(bicubic_upscale(lr, 4), hr, crop=4))
    assert np.mean(gains) > 0, gains


def test_the_model_card_states_the_shipped_parameter_count(model):
    card = (shipped_model() / "MODEL_CARD.md").read_text()
    total = parameter_counts(model)["total"]
    assert re.search(rf"\| total \| {total:,} \|", card)
