"""The shipped default model: loads offline, has its refiner and beats bicubic and Lanczos on
held-out photographs."""

import re

import numpy as np
import pytest

from affine_sr.checkpoint import load_model, shipped_model
from affine_sr.data import HELD_OUT, heldout_images, sample_images
from affine_sr.degradations import bicubic_downscale, bicubic_upscale, lanczos_upscale
from affine_sr.evaluate import parameter_counts
from affine_sr.metrics import psnr
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
    # measured +1.13, +0.43, +4.76, +4.80 dB (coffee, chelsea, flower, camera)
    assert np.mean(gains) > 1.0 and min(gains) > 0.2, gains


def test_the_default_model_beats_lanczos_on_a_registry_photograph(model):
    # matplotlib's grace_hopper, never used in training; measured +1.26 dB over bicubic and
    # +1.03 dB over Lanczos on this crop
    hr = heldout_images()["grace_hopper"][100:292, 160:352]
    lr = bicubic_downscale(hr, 4)
    ours = psnr(upscale_image(model, lr, 4), hr, crop=4)
    assert model.refiner is not None
    assert ours > psnr(bicubic_upscale(lr, 4), hr, crop=4) + 0.6
    assert ours > psnr(lanczos_upscale(lr, 4), hr, crop=4) + 0.4


def test_the_model_card_states_the_shipped_parameter_count(model):
    card = (shipped_model() / "MODEL_CARD.md").read_text()
    total = parameter_counts(model)["total"]
    assert re.search(rf"\| total \| {total:,} \|", card)


def test_the_default_output_is_more_natural_than_lanczos_by_niqe(model):
    from affine_sr.niqe import niqe

    # the held-out flower photograph, a 4-pixel border left out as `affine-sr evaluate` does
    hr = sample_images()["flower"]
    lr = bicubic_downscale(hr, 4)
    ours, lanczos = upscale_image(model, lr, 4)[4:-4, 4:-4], lanczos_upscale(lr, 4)[4:-4, 4:-4]
    assert niqe(ours) < niqe(lanczos) - 3


def test_the_checkpoint_helpers_are_still_importable_from_the_model_module():
    import affine_sr.model
    from affine_sr.model import load_model as old_name

    assert old_name is load_model and affine_sr.model.shipped_model() == shipped_model()
    assert {"load_model", "shipped_model"} <= set(dir(affine_sr.model))
