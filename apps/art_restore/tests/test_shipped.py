"""The shipped restorer: loads offline and repairs damage on held-out artworks."""

import re

import numpy as np

from affine_sr.evaluate import parameter_counts
from affine_sr.metrics import psnr
from art_restore.artworks import stylise
from art_restore.degrade import apply
from art_restore.restorer import load_restorer, restore_image, shipped_restorer


def test_the_shipped_restorer_improves_held_out_artworks():
    from affine_sr.data import sample_images

    model = load_restorer("default")
    clean = stylise(sample_images()["coffee"][100:228, 200:328], np.random.default_rng(0))
    gains = {}
    for kind in ("gaussian_noise", "blur", "scratches"):
        damaged = apply(clean, kind, 0.5, seed=1)
        gains[kind] = psnr(restore_image(model, damaged), clean, False) - psnr(
            damaged, clean, False
        )
    assert np.mean(list(gains.values())) > 0, gains


def test_the_model_card_states_the_shipped_parameter_count():
    card = (shipped_restorer() / "MODEL_CARD.md").read_text()
    total = parameter_counts(load_restorer("default"))["total"]
    assert re.search(rf"{total:,} parameters", card)
