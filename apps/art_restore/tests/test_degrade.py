import numpy as np
import pytest

from art_restore.baselines import BASELINES, inpaint_scratches, line_mask
from art_restore.degrade import DEGRADATIONS, FAMILIES, FAMILY, apply, compose, random_recipe

PUBLISHED = {"blur", "dull", "fade", "gaussian_noise", "motion_blur", "noise", "pixelate",
             "radial_blur", "rain", "water_damage"}  # fmt: skip


def test_the_published_types_and_scratches_and_cracks_are_there():
    assert set(DEGRADATIONS) == PUBLISHED | {"scratches", "cracks"}


@pytest.mark.parametrize("kind", list(DEGRADATIONS))
def test_each_kind_is_seeded_changes_the_image_and_keeps_shape_and_range(kind, artwork):
    before = artwork.copy()
    out = apply(artwork, kind, 0.6, seed=3)
    assert out.shape == artwork.shape and out.dtype == np.uint8
    assert np.array_equal(out, apply(artwork, kind, 0.6, seed=3))
    assert np.abs(out.astype(int) - artwork).mean() > 0.5  # visibly changed
    stronger = apply(artwork, kind, 1.0, seed=3)
    weaker = apply(artwork, kind, 0.2, seed=3)
    assert (
        np.abs(stronger.astype(int) - artwork).mean() > np.abs(weaker.astype(int) - artwork).mean()
    )
    assert np.array_equal(artwork, before)  # input untouched


def test_compose_and_random_recipes(artwork):
    recipe = [("blur", 0.5), ("gaussian_noise", 0.5)]
    assert np.array_equal(compose(artwork, recipe, 1), compose(artwork, recipe, 1))
    assert not np.array_equal(compose(artwork, recipe, 1), compose(artwork, recipe[::-1], 1))
    rng = np.random.default_rng(0)
    recipes = [random_recipe(rng) for _ in range(50)]
    assert all(1 <= len(r) <= 3 and len({k for k, _ in r}) == len(r) for r in recipes)
    assert all(0.2 <= s <= 1 for r in recipes for _, s in r)
    with pytest.raises(ValueError, match="unknown degradation"):
        apply(artwork, "smudge", 0.5)
    with pytest.raises(ValueError, match="severity"):
        apply(artwork, "blur", 0)


def test_the_baselines_fix_what_they_are_for(artwork):
    from affine_sr.metrics import psnr

    scratched = apply(artwork, "scratches", 0.6, seed=0)
    mask = line_mask(scratched) > 0
    drawn = np.abs(scratched.astype(int) - artwork).max(-1) > 60
    assert mask[drawn].mean() > 0.5  # most scratch pixels are found
    assert psnr(inpaint_scratches(scratched), artwork) > psnr(scratched, artwork)
    noisy = apply(artwork, "gaussian_noise", 0.6, seed=0)
    assert psnr(BASELINES["nl-means"](noisy), artwork) > psnr(noisy, artwork)


@pytest.mark.parametrize("kind", list(DEGRADATIONS))
def test_each_kind_says_which_pixels_it_damaged(kind, artwork):
    out, mask = apply(artwork, kind, 0.6, seed=3, with_mask=True)
    assert np.array_equal(out, apply(artwork, kind, 0.6, seed=3))  # the same damage
    assert mask.shape == artwork.shape[:2] and mask.dtype == bool
    if FAMILY[kind] in ("tone", "noise", "blur"):
        assert mask.all()
    else:  # lines and stains: the changed pixels, and only some of them
        changed = np.abs(out.astype(int) - artwork).max(-1) > 30
        assert 0 < mask.mean() < 0.9
        assert mask[changed].mean() > 0.8 and changed[mask].mean() > 0.3


def test_composed_damage_masks_by_family(artwork):
    recipe = [("fade", 0.5), ("cracks", 0.5)]
    out, masks = compose(artwork, recipe, 1, with_masks=True)
    assert np.array_equal(out, compose(artwork, recipe, 1))
    assert masks.shape == (len(FAMILIES), *artwork.shape[:2])
    by_family = dict(zip(FAMILIES, masks))
    assert by_family["tone"].all() and 0 < by_family["lines"].mean() < 0.5
    assert not by_family["noise"].any() and not by_family["stains"].any()
