"""The shipped models: they load offline, find signs, read the context, and match their cards."""

import re
from importlib import resources
from pathlib import Path

import numpy as np

from traffic_signs.context import evaluate_context, load_context, predict_context
from traffic_signs.detector import detect_frames, load_detector
from traffic_signs.signs import MISSING_CLASSES, SIGN_CLASSES
from traffic_signs.synth import render_scene, write_missing_set

PRETRAINED = Path(str(resources.files("traffic_signs") / "pretrained"))


def test_the_detector_finds_the_context_signs_of_new_scenes():
    detector = load_detector("default")
    rng = np.random.default_rng(123)
    scenes = [render_scene(c, rng, common_signs=0) for c in MISSING_CLASSES[:4] for _ in range(4)]
    found = detect_frames(detector, [s.image for s in scenes], conf=0.25)
    hits = sum(
        any(d["class"] == SIGN_CLASSES[s.boxes[0][0]] for d in dets)
        for s, dets in zip(scenes, found)
        if s.boxes
    )
    assert hits >= 0.6 * sum(bool(s.boxes) for s in scenes)
    for dets in found:
        for d in dets:
            assert d["class"] in SIGN_CLASSES and 0.25 <= d["confidence"] <= 1


def test_context_predictions_follow_the_road():
    context = load_context("default")
    rng = np.random.default_rng(7)
    left = [render_scene("left_curve", rng, context_sign=False).image for _ in range(6)]
    right = [render_scene("right_curve", rng, context_sign=False).image for _ in range(6)]
    p_left, p_right = predict_context(context, left), predict_context(context, right)
    k_left, k_right = MISSING_CLASSES.index("left_curve"), MISSING_CLASSES.index("right_curve")
    assert p_left[:, k_left].mean() > p_right[:, k_left].mean() + 0.3
    assert p_right[:, k_right].mean() > p_left[:, k_right].mean() + 0.3
    # the same road mirrored is the other bend
    mirrored = predict_context(context, [np.ascontiguousarray(f[:, ::-1]) for f in left])
    assert mirrored[:, k_right].mean() > mirrored[:, k_left].mean()


def test_context_card_matches_a_fresh_evaluation(tmp_path):
    card = (PRETRAINED / "context" / "MODEL_CARD.md").read_text()
    top1 = float(re.search(r"top-1 \*\*([0-9.]+)\*\*", card).group(1))
    write_missing_set(tmp_path, seed=1, per_split=(40,), splits=("test",))
    result = evaluate_context(load_context("default"), tmp_path / "test")
    assert abs(result["top1"] - top1) < 0.011  # a borderline scene may flip with the BLAS build
