"""The water-stain model: its fields, its inversion and its checkpoint."""

from __future__ import annotations

import numpy as np
import torch

from art_restore.degrade import STAIN_OPACITY, TIDE_DARKENING, apply, water_stain
from art_restore.stains import StainNet, predict_stain, remove_stains, tide_share


def test_water_stain_fields_are_the_generators():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    stain, band = water_stain((48, 64), 0.6, np.random.default_rng(3))
    assert stain.shape == band.shape == (48, 64) and stain.dtype == np.float32
    assert 0 <= stain.min() and stain.max() <= 1 and 0 <= band.min() and band.max() <= 1
    # the generator's damage mask is built from the same two fields
    _, mask = apply(image, "water_damage", 0.6, np.random.default_rng(3), with_mask=True)
    assert np.array_equal(mask, np.maximum(stain, TIDE_DARKENING * band) > 0.1)


def no_stain_net() -> StainNet:
    net = StainNet((4, 8)).eval()
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.fill_(-30.0)  # sigmoid(-30): no stain anywhere
    return net


def test_no_predicted_stain_leaves_the_image_exactly():
    image = np.random.default_rng(1).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    out, opacity, tide = remove_stains(no_stain_net(), image)
    assert np.array_equal(out, image) and opacity.shape == tide.shape == (37, 53)
    assert tide_share(tide) == 0.0


def test_predicted_fields_are_bounded_and_the_checkpoint_round_trips(tmp_path):
    net = StainNet((4, 8)).eval()
    image = np.random.default_rng(2).integers(0, 256, (30, 41, 3), dtype=np.uint8)
    opacity, tide = predict_stain(net, image)
    assert opacity.shape == (30, 41) and 0 <= opacity.min() and opacity.max() <= STAIN_OPACITY
    assert 0 <= tide.min() and tide.max() <= TIDE_DARKENING
    net.save_pretrained(tmp_path / "stains")
    again = StainNet.load(tmp_path / "stains")
    assert np.allclose(predict_stain(again, image)[0], opacity)


def test_large_images_are_predicted_in_tiles():
    net = StainNet((4, 8)).eval()
    image = np.random.default_rng(3).integers(0, 256, (70, 90, 3), dtype=np.uint8)
    whole = predict_stain(net, image)[0]
    tiled = predict_stain(net, image, tile=48, overlap=16)[0]
    assert tiled.shape == whole.shape == (70, 90)
    assert np.abs(tiled - whole).mean() < 0.05 * STAIN_OPACITY  # blended, seams aside
