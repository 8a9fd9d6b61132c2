import csv
import json

import numpy as np
import pytest
import torch
from PIL import Image

from seed_gan.classifier import load_classifier
from seed_gan.confidence import (
    CONFIDENCE_FILE,
    Confidence,
    calibration_error,
    fit_temperature,
    low_level_statistics,
)
from seed_gan.grade import grade_lot
from seed_gan.synth import CLASSES, draw_seed


def test_the_temperature_undoes_overconfidence():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 2, (4000, 4))
    p = np.exp(true_logits) / np.exp(true_logits).sum(1, keepdims=True)
    labels = np.array([rng.choice(4, p=row) for row in p])
    assert fit_temperature(3 * true_logits, labels) == pytest.approx(3, rel=0.1)
    # calibrated probabilities have a small error, the overconfident ones a large one
    overconfident = np.exp(3 * true_logits) / np.exp(3 * true_logits).sum(1, keepdims=True)
    assert calibration_error(p, labels) < 0.03 < 0.1 < calibration_error(overconfident, labels)


def test_a_confidence_file_round_trips_and_bad_ones_are_refused(tmp_path):
    rng = np.random.default_rng(1)
    stats = rng.normal(size=(200, 6))
    confidence = Confidence(1.7, stats.mean(0), np.linalg.inv(np.cov(stats.T)), 12.5)
    confidence.save(tmp_path)
    again = Confidence.load(tmp_path)
    assert again.temperature == 1.7 and again.threshold == 12.5
    assert np.allclose(again.distance(stats), confidence.distance(stats))
    assert Confidence.load(tmp_path / "none") is None  # models saved before calibration
    (tmp_path / CONFIDENCE_FILE).write_bytes(b"not safetensors")
    with pytest.raises(ValueError, match="not a valid confidence file"):
        Confidence.load(tmp_path)


def test_the_shipped_classifier_sends_unlike_photographs_to_review(tmp_path):
    """Kernels like the training ones are graded; natural photographs and drawn shapes, which
    the network would grade with a confidence near 1, are flagged and left out of the purity."""
    from skimage import data

    model = load_classifier("default")
    assert model.confidence is not None and model.confidence.temperature > 0
    rng = np.random.default_rng(0)
    lot = tmp_path / "lot"
    lot.mkdir()
    for i in range(24):
        Image.fromarray(draw_seed(CLASSES[i % len(CLASSES)], rng, 64)).save(lot / f"k{i}.png")
    photos = {"chelsea": data.chelsea(), "coffee": data.coffee(), "rocket": data.rocket()}
    for name, photo in photos.items():
        Image.fromarray(photo[:200, :200]).save(lot / f"photo_{name}.png")
    shape = np.full((64, 64, 3), 230, np.uint8)
    shape[16:48, 16:48] = (200, 40, 40)
    Image.fromarray(shape).save(lot / "shape.png")
    summary = grade_lot(lot, model, tmp_path / "report", progress=False)
    rows = {r["seed"]: r for r in csv.DictReader((tmp_path / "report" / "seeds.csv").open())}
    flagged = {s for s, r in rows.items() if r["reason"] == "unlike the training kernels"}
    assert {"photo_chelsea", "photo_coffee", "photo_rocket", "shape"} <= flagged
    assert sum(s.startswith("k") for s in flagged) <= 1
    assert summary["ungraded"] == len(flagged) and summary["graded"] == 28 - len(flagged)
    assert summary["calibrated"] and all(rows[s]["review"] == "1" for s in flagged)
    assert json.loads((tmp_path / "report" / "summary.json").read_text())["ungraded"] >= 4


def test_low_level_statistics_are_the_first_convolutions_mean_and_spread():
    model = load_classifier("default")
    images = torch.rand(3, 3, 64, 64) * 2 - 1
    stats = low_level_statistics(model, images)
    first = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    with torch.inference_mode():
        out = first(images)
    assert stats.shape == (3, 2 * first.out_channels)
    assert np.allclose(stats[:, : first.out_channels], out.mean((2, 3)).numpy(), atol=1e-5)
