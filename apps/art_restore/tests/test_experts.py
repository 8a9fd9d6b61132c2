"""Do no harm, and each expert on its kind: the damage detector, the block-grid finder and
de-pixelation, and the routing of the shipped restorer."""

import json

import cv2
import numpy as np
import pytest

from affine_sr.data import sample_images
from affine_sr.metrics import psnr
from art_restore.artworks import stylise
from art_restore.degrade import apply, dull, motion_kernel, undull, zoom_blur
from art_restore.detect import (
    FEATURES,
    DamageDetector,
    block_grid,
    centre,
    crack_mask,
    damage_features,
    dull_strength,
    gaussian_blur_estimate,
    motion_blur_estimate,
    noise_sigma,
    rain_mask,
    zoom_blur_estimate,
)
from art_restore.experts import (
    DULL_MAX,
    DULL_MIN,
    STAIN_EVIDENCE,
    TIDE_EVIDENCE,
    ZOOM_ACCEPT,
    deblur_zoom,
    depixelate,
    remove_dullness,
    restore_guarded,
    wiener_deconvolve,
)
from art_restore.restorer import load_restorer, restore_image


@pytest.fixture(scope="module")
def model():
    return load_restorer("default")


@pytest.fixture(scope="module")
def held_out():
    return stylise(sample_images()["coffee"][100:228, 200:328], np.random.default_rng(0))


def tone_profiles(image: np.ndarray) -> dict[str, np.ndarray]:
    """The same clean image as a dark, bright, saturated, grey and high-contrast photograph."""
    x = image.astype(np.float32) / 255
    grey = x.mean(-1, keepdims=True)
    profiles = {
        "dark": (x**2.2) * 0.6,
        "bright": 1 - (1 - x) ** 2 * 0.7,
        "saturated": grey + (x - grey) * 1.6,
        "grey": np.repeat(grey, 3, -1),
        "high_contrast": 0.5 + (x - 0.5) * 1.5,
    }
    return {k: (np.clip(v, 0, 1) * 255).round().astype(np.uint8) for k, v in profiles.items()}


def test_the_shipped_restorer_has_a_detector(model):
    assert model.detector is not None and model.detector.kinds[0] == "blur"


def test_clean_images_of_every_tone_profile_come_back_exactly(model, held_out):
    photo = sample_images()["chelsea"][60:188, 120:248]  # a held-out photograph, unpainted
    for source in (held_out, photo):
        for name, clean in tone_profiles(source).items():
            out, report = restore_guarded(model, model.detector, clean)
            assert np.array_equal(out, clean), f"{name}: {report}"
            assert report["experts"] == []


def test_pixelation_goes_to_the_depixelation_expert(model, held_out):
    damaged = apply(held_out, "pixelate", 0.5, seed=1)
    out, report = restore_guarded(model, model.detector, damaged)
    assert "pixelate" in report["detected"]
    assert [e["expert"] for e in report["experts"]][0] == "depixelate"
    assert psnr(out, held_out, False) > psnr(damaged, held_out, False) + 0.5
    assert np.array_equal(restore_image(model, damaged), out)


@pytest.mark.parametrize("kind", ["noise", "gaussian_noise"])
def test_noise_goes_to_the_network(model, held_out, kind):
    damaged = apply(held_out, kind, 0.5, seed=1)
    out, report = restore_guarded(model, model.detector, damaged)
    assert any(e["expert"] == "network" and kind in e["kinds"] for e in report["experts"])
    assert psnr(out, held_out, False) > psnr(damaged, held_out, False) + 2


def only(detector: DamageDetector, kind: str) -> DamageDetector:
    """``detector`` that reports ``kind`` on every image and nothing else."""
    thresholds = np.where(np.array(detector.kinds) == kind, 0.0, 2.0)
    return DamageDetector(detector.kinds, detector.mean, detector.scale, detector.weights,
                          detector.biases, thresholds)  # fmt: skip


def test_a_dulling_stronger_than_any_is_declined_and_reported(model):
    vivid = np.random.default_rng(0).uniform(0, 255, (64, 64, 3))  # every colour, to the gamut
    flat = dull(vivid, 0.86).round().astype(np.uint8)
    out, strength = remove_dullness(flat)
    assert out is flat and strength > DULL_MAX
    out, report = restore_guarded(model, only(model.detector, "none"), flat)
    assert np.array_equal(out, flat) and report["experts"] == []
    (declined,) = report["declined"]
    assert declined["expert"] == "remove_dullness" and declined["dulling"] > DULL_MAX


def test_a_kind_found_but_not_measured_is_reported_and_left_alone(model, held_out):
    grey_art = np.repeat(held_out.mean(-1, keepdims=True), 3, -1).round().astype(np.uint8)
    damaged = apply(grey_art, "dull", 0.8, seed=1)  # grey: no colour to confirm the dulling
    out, report = restore_guarded(model, only(model.detector, "dull"), damaged)
    assert list(report["detected"]) == ["dull"] and report["unrepaired"] == ["dull"]
    assert report["experts"] == [] and np.array_equal(out, damaged)


def test_undull_inverts_dull():
    x = np.random.default_rng(0).uniform(0, 255, (16, 24, 3))
    for a in (0.1, 0.5, 0.9):
        assert np.allclose(undull(dull(x, a), a), x)


@pytest.mark.parametrize("severity", [0.2, 0.5, 1.0])
def test_dull_strength_is_measured_from_the_gamut(held_out, severity):
    photo = sample_images()["chelsea"][30:286, 100:356]
    for clean in (held_out, photo):
        measured = dull_strength(apply(clean, "dull", severity, seed=1))
        assert 0.25 + 0.5 * severity - 0.01 < measured < 0.25 + 0.5 * severity + 0.06
        assert dull_strength(clean) < DULL_MIN


def test_dullness_is_undone_on_colour_images_only(model):
    photo = sample_images()["flower"][50:306, 150:406]  # held out
    damaged = apply(photo, "dull", 0.5, seed=1)
    out, report = restore_guarded(model, model.detector, damaged)
    assert [e["expert"] for e in report["experts"]] == ["remove_dullness"]
    assert psnr(out, photo, False) > psnr(damaged, photo, False) + 10
    grey_art = np.repeat(damaged.mean(-1, keepdims=True), 3, -1).round().astype(np.uint8)
    out, strength = remove_dullness(grey_art)
    assert strength == 0.0 and out is grey_art


def test_water_stains_are_divided_out(model):
    photo = centre(sample_images()["camera"], 256)  # a held-out photograph
    damaged = apply(photo, "water_damage", 0.5, seed=1)
    out, report = restore_guarded(model, only(model.detector, "water_damage"), damaged)
    (expert,) = report["experts"]
    assert expert["expert"] == "stain_removal" and expert["tide"] >= TIDE_EVIDENCE
    assert report["unrepaired"] == []
    assert psnr(out, photo, False) > psnr(damaged, photo, False) + 1


def test_stains_are_tried_on_half_the_detector_s_certainty(model):
    photo = centre(sample_images()["camera"], 256)
    damaged = apply(photo, "water_damage", 0.5, seed=1)
    evidence = model.detector.evidence(damaged)["water_damage"]
    assert evidence >= STAIN_EVIDENCE  # the shipped detector's probability for this image
    never = only(model.detector, "none")  # reports nothing: thresholds above 1
    out, report = restore_guarded(model, never, damaged)
    assert report["detected"] == {} and report["unrepaired"] == []
    assert [e["expert"] for e in report["experts"]] == ["stain_removal"]
    assert report["experts"][0]["evidence"] == round(evidence, 3)
    assert psnr(out, photo, False) > psnr(damaged, photo, False) + 1


def test_stain_removal_is_declined_without_a_tide_line(model):
    clean = centre(sample_images()["camera"], 256)
    out, report = restore_guarded(model, only(model.detector, "water_damage"), clean)
    assert report["experts"] == [] and np.array_equal(out, clean)
    (declined,) = report["declined"]
    assert declined["expert"] == "stain_removal" and declined["tide"] < TIDE_EVIDENCE
    assert report["unrepaired"] == ["water_damage"]


def zoom_case():
    """A held-out photograph zoom-blurred at severity 0.5, and the blur's centre in pixels."""
    photo = centre(sample_images()["camera"], 256)
    rng = np.random.default_rng(5)  # the generator's draws: the centre, as fractions of the sides
    fx, fy = rng.uniform(0.35, 0.65), rng.uniform(0.35, 0.65)
    return photo, apply(photo, "radial_blur", 0.5, seed=5), (fx * 256, fy * 256)


def test_zoom_blur_of_no_zoom_is_the_identity(held_out):
    x = held_out.astype(np.float32)
    assert np.allclose(zoom_blur(x, 40, 70, 0.0), x, atol=1e-3)
    assert np.allclose(zoom_blur(x, 40, 70, 0.0, adjoint=True), x, atol=1e-3)
    assert zoom_blur(x[..., :1], 40, 70, 0.05).shape == x[..., :1].shape


def test_zoom_blur_centre_is_found_from_the_lost_detail():
    photo, damaged, (cx, cy) = zoom_case()
    found = zoom_blur_estimate(grey(damaged))
    assert np.hypot(found.cx * 256 - cx, found.cy * 256 - cy) < 0.1 * 256  # 0.07 measured
    # less fine than coarse detail lies across the rays than in the clean photograph (-0.25 vs -0.07)
    assert found.score < zoom_blur_estimate(grey(photo)).score - 0.1


def test_zoom_deblurring_with_the_centre_gains():
    photo, damaged, (cx, cy) = zoom_case()
    out = deblur_zoom(damaged, cx, cy)
    assert out.dtype == np.uint8 and out.shape == photo.shape
    assert psnr(out, photo, False) > psnr(damaged, photo, False) + 1.5
    assert np.array_equal(deblur_zoom(photo, cx, cy, steps=0), photo)


def test_zoom_deblurring_is_declined_on_images_too_small_to_tell(model):
    photo = centre(sample_images()["camera"], 64)
    out, report = restore_guarded(model, only(model.detector, "radial_blur"), photo)
    assert report["experts"] == [] and np.array_equal(out, photo)
    assert zoom_blur_estimate(grey(photo)).score == 0.0


def test_zoom_blur_and_its_deblurring_refuse_what_they_cannot_take():
    with pytest.raises(ValueError, match="at least 2 copies"):
        zoom_blur(np.zeros((8, 8, 1), np.float32), 4, 4, 0.1, copies=1)
    with pytest.raises(ValueError, match=r"\[H, W, C\]"):
        deblur_zoom(np.zeros((8, 8), np.uint8), 4, 4)
    # an integer image is blurred in floating point, not wrapped around
    assert zoom_blur(np.full((8, 8, 1), 200, np.uint8), 4, 4, 0.1).max() == 200


def test_radial_blur_goes_to_the_zoom_deblurring(model):
    photo, damaged, _ = zoom_case()
    out, report = restore_guarded(model, only(model.detector, "radial_blur"), damaged)
    (expert,) = report["experts"]
    assert expert["expert"] == "zoom_deblur" and report["unrepaired"] == []
    assert psnr(out, photo, False) > psnr(damaged, photo, False) + 1


def test_zoom_deblurring_is_declined_where_it_would_only_sharpen_texture(model):
    photo = centre(sample_images()["coffee"], 256)  # clean: its detail after would be +0.09
    out, report = restore_guarded(model, only(model.detector, "radial_blur"), photo)
    assert report["experts"] == [] and np.array_equal(out, photo)
    (declined,) = report["declined"]
    assert declined["expert"] == "zoom_deblur" and declined["detail_after"] >= ZOOM_ACCEPT
    assert report["unrepaired"] == ["radial_blur"]


@pytest.mark.parametrize("severity", [0.2, 0.5, 1.0])
def test_motion_blur_is_measured_from_the_cepstrum(severity):
    photo = sample_images()["chelsea"][30:286, 100:356]
    angle = float(np.random.default_rng(3).uniform(0, 180))  # the generator's only draw
    damaged = apply(photo, "motion_blur", severity, seed=3)
    estimate = motion_blur_estimate(grey(damaged))
    assert estimate.length == int(3 + 20 * severity)
    assert abs((estimate.angle - angle + 90) % 180 - 90) <= 3
    assert estimate.score > 3 * motion_blur_estimate(grey(photo)).score


def test_motion_blur_goes_to_wiener_deconvolution(model):
    photo = sample_images()["chelsea"][30:286, 100:356]
    damaged = apply(photo, "motion_blur", 0.5, seed=3)
    out, report = restore_guarded(model, only(model.detector, "motion_blur"), damaged)
    (expert,) = report["experts"]
    assert expert["expert"] == "wiener" and expert["length"] == 13
    assert psnr(out, photo, False) > psnr(damaged, photo, False) + 2


def test_wiener_deconvolution_undoes_a_known_blur(held_out):
    kernel = motion_kernel(9, 30.0)
    blurred = cv2.filter2D(held_out, -1, kernel, borderType=cv2.BORDER_REFLECT)
    out = wiener_deconvolve(blurred, kernel)
    assert out.dtype == np.uint8 and out.shape == held_out.shape
    assert psnr(out, held_out, False) > psnr(blurred, held_out, False) + 3
    # the identity kernel leaves the image as it was, up to the regularisation's shrinkage
    assert np.abs(wiener_deconvolve(held_out, np.ones((1, 1))).astype(int) - held_out).max() <= 3


def test_scratches_go_to_the_network(model, held_out):
    damaged = apply(held_out, "scratches", 0.5, seed=1)
    out, report = restore_guarded(model, only(model.detector, "scratches"), damaged)
    assert report["experts"] == [{"expert": "network", "kinds": ["scratches"], "share": 1.0}]
    assert psnr(out, held_out, False) > psnr(damaged, held_out, False) + 2


def grey(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float32) / 255 @ np.float32([0.299, 0.587, 0.114])


def test_crack_mask_finds_the_craquelure_and_not_clean_paint(held_out):
    damaged, truth = apply(held_out, "cracks", 0.5, seed=1, with_mask=True)
    found = crack_mask(grey(damaged))
    assert crack_mask(grey(held_out)).mean() < 0.02  # a few dark specks of clean paint
    assert found[truth].mean() > 0.5  # most crack pixels
    assert truth[found].mean() > 0.75  # and little else
    assert damage_features(held_out)[FEATURES.index("crack_share")] == 0
    assert damage_features(damaged)[FEATURES.index("crack_share")] > 0


def test_cracks_alone_are_repaired_on_their_own_pixels_only(model, held_out):
    damaged = apply(held_out, "cracks", 0.5, seed=1)
    out, report = restore_guarded(model, only(model.detector, "cracks"), damaged)
    (expert,) = report["experts"]
    assert expert["expert"] == "network_on_lines" and 0 < expert["share"] < 0.3
    changed = (out != damaged).any(-1)
    assert changed.mean() <= expert["share"]
    assert psnr(out, held_out, False) > psnr(damaged, held_out, False) + 1
    assert (out[changed] >= damaged[changed]).all()  # a crack's pixels are only lightened
    # with noise as well, the whole-image network repairs both
    both = DamageDetector(*[getattr(model.detector, a) for a in
                            ("kinds", "mean", "scale", "weights", "biases")],
                          np.where(np.isin(model.detector.kinds, ["cracks", "noise"]), 0.0, 2.0))  # fmt: skip
    _, report = restore_guarded(model, both, damaged)
    assert report["experts"] == [{"expert": "network", "kinds": ["noise", "cracks"], "share": 1.0}]


def test_scratches_are_measured_by_straight_near_white_lines(held_out):
    damaged = apply(held_out, "scratches", 0.5, seed=1)
    at = FEATURES.index("scratch_length")
    assert damage_features(held_out)[at] == 0 < damage_features(damaged)[at]


@pytest.mark.parametrize("severity", [0.2, 0.5, 1.0])
def test_block_grid_and_depixelate(held_out, severity):
    big = stylise(sample_images()["coffee"][50:306, 150:406], np.random.default_rng(0))
    damaged = apply(big, "pixelate", severity, seed=0)
    grid = block_grid(damaged)
    block = 2 + round(10 * severity)
    assert grid.score > 0.4 and abs(grid.block - block) < 0.6
    assert block_grid(big).score < 0.2
    assert psnr(depixelate(damaged), big, False) > psnr(damaged, big, False) + 0.3
    assert depixelate(big).shape == big.shape


def test_noise_sigma_measures_added_noise():
    rng = np.random.default_rng(0)
    smooth = np.tile(np.linspace(0, 1, 128, dtype=np.float32), (128, 1))
    assert noise_sigma(smooth) < 1e-3
    assert noise_sigma(smooth + rng.normal(0, 0.05, smooth.shape).astype(np.float32)) == (
        pytest.approx(0.05, rel=0.1)
    )
    assert noise_sigma(np.zeros((2, 2), np.float32)) == 0.0


def test_features_are_finite_on_odd_images_and_tiny_ones_are_left_alone(model):
    for image in (np.zeros((16, 23, 3), np.uint8), np.full((40, 40, 3), 255, np.uint8)):
        f = damage_features(image)
        assert f.shape == (len(FEATURES),) and np.isfinite(f).all()
        out, _ = restore_guarded(model, model.detector, image)
        assert out.shape == image.shape
    for shape in ((1, 1, 3), (1, 7, 3), (15, 300, 3)):
        image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
        assert model.detector.detect(image) == {}
        assert np.array_equal(restore_guarded(model, model.detector, image)[0], image)
    with pytest.raises(ValueError, match="at least 16 px"):
        damage_features(np.zeros((8, 8, 3), np.uint8))


def test_a_broken_detector_file_is_one_clear_error(tmp_path, model):
    path = tmp_path / "detector.json"
    model.detector.save(path)
    assert DamageDetector.load(path).kinds == model.detector.kinds
    data = json.loads(path.read_text())
    for change in (
        {"features": ["x"]},
        {"weights": [[1.0]]},
        {"mean": [float("nan")] * len(FEATURES)},
    ):
        path.write_text(json.dumps({**data, **change}))
        with pytest.raises(ValueError, match="is not a damage detector"):
            DamageDetector.load(path)
    path.write_text("{")
    with pytest.raises(ValueError, match="is not a damage detector"):
        DamageDetector.load(path)


def test_remove_veil_inverts_a_fade_and_leaves_a_black_point_alone(held_out):
    from art_restore.experts import VEIL, remove_veil

    for a in (0.2, 0.45, 0.65):
        faded = np.clip(held_out * (1 - a) + VEIL * a, 0, 255).round().astype(np.uint8)
        out, strength = remove_veil(faded)
        assert abs(strength - a) < 0.03
        assert psnr(out, held_out, False) > psnr(faded, held_out, False) + 10
    dark = held_out.copy()
    dark[:2, :2] = 0  # an image with its own black: no veil, returned as it is
    out, strength = remove_veil(dark)
    assert strength == 0.0 and out is dark


@pytest.mark.parametrize("severity", [0.2, 0.5, 1.0])
def test_gaussian_blur_width_is_measured_from_the_spectrum(severity):
    photo = sample_images()["chelsea"][30:286, 100:356]
    sigma = 0.6 + 3.4 * severity * np.random.default_rng(1).uniform(0.8, 1.2)
    estimate = gaussian_blur_estimate(grey(apply(photo, "blur", severity, seed=1)))
    assert 0.8 * sigma < estimate < 1.3 * sigma
    assert gaussian_blur_estimate(grey(photo)) < 1.0


def test_blur_goes_to_wiener_deconvolution(model, held_out):
    damaged = apply(held_out, "blur", 0.5, seed=1)
    out, report = restore_guarded(model, only(model.detector, "blur"), damaged)
    (expert,) = report["experts"]
    assert expert["expert"] == "wiener" and 1.5 < expert["sigma"] < 3
    assert psnr(out, held_out, False) > psnr(damaged, held_out, False) + 1


def test_fade_goes_to_the_veil_expert(model, held_out):
    damaged = apply(held_out, "fade", 0.5, seed=1)
    out, report = restore_guarded(model, only(model.detector, "fade"), damaged)
    assert [e["expert"] for e in report["experts"]] == ["remove_veil"]
    assert psnr(out, held_out, False) > psnr(damaged, held_out, False) + 10


def test_evaluate_reports_experts_and_the_worst_case(model, held_out):
    from art_restore.evaluate import evaluate, summarise

    rows, _ = evaluate(model, {"coffee": held_out}, ("pixelate", "noise"), progress=False)
    ours = {r["degradation"]: r["experts"] for r in rows if r["method"] == "art-restore"}
    assert ours == {"pixelate": "depixelate", "noise": "network", "clean": "none"}
    summary = summarise(rows)
    assert set(summary["per_expert"]) == {"depixelate", "network"}
    assert summary["per_expert"]["network"]["mean_gain_db"] > 2
    worst = summary["worst_case"]
    assert worst["degradation"] == "pixelate" and worst["gain_db"] > 0.5


def test_rain_is_found_and_repaired_on_its_streaks_only(model, held_out):
    damaged, truth = apply(held_out, "rain", 0.5, seed=1, with_mask=True)
    found = rain_mask(grey(damaged))
    assert rain_mask(grey(held_out)).mean() < 0.5 * found.mean()
    assert truth[found].mean() > 0.6  # mostly the streaks
    irregular = FEATURES.index("rain_irregular")
    assert damage_features(damaged)[irregular] > 0.1 > damage_features(held_out)[irregular]
    out, report = restore_guarded(model, only(model.detector, "rain"), damaged)
    (expert,) = report["experts"]
    assert expert["expert"] == "network_on_lines" and expert["kinds"] == ["rain"]
    changed = (out != damaged).any(-1)
    assert 0 < changed.mean() <= expert["share"] < 0.5
    assert (out[changed] <= damaged[changed]).all()  # a streak's pixels are only darkened
    assert psnr(out, held_out, False) > psnr(damaged, held_out, False) + 0.5


def test_a_brick_wall_is_not_rain():
    brick = sample_images()["brick"][:256, :256]
    regular = damage_features(brick)[FEATURES.index("rain_regular")]
    rained = damage_features(apply(brick, "rain", 0.5, seed=0))[FEATURES.index("rain_regular")]
    assert regular > 0.1 > rained  # its joints repeat across their direction, rain does not
