import numpy as np
import pytest
import yaml

from traffic_signs.signs import CONTEXT_CATEGORIES, MISSING_CLASSES, SIGN_CLASSES, draw_sign
from traffic_signs.synth import render_scene, write_detection_set, write_missing_set


def test_every_sign_draws_and_left_and_right_differ():
    for kind in SIGN_CLASSES:
        patch = draw_sign(kind, 32, np.random.default_rng(0))
        assert patch.shape == (32, 32, 4) and patch[..., 3].max() == 255
    left, right = (draw_sign(k, 48).astype(int) for k in ("left_curve", "right_curve"))
    # mirror images of each other (up to a pixel of drawing offset), and not alike
    assert np.abs(left[:, ::-1] - right).mean() < 0.6 * np.abs(left - right).mean()
    with pytest.raises(ValueError, match="sign"):
        draw_sign("roundabout", 32)


def test_scenes_carry_their_context_sign_and_its_mask():
    rng = np.random.default_rng(0)
    for category in CONTEXT_CATEGORIES:
        found = 0
        for _ in range(5):
            scene = render_scene(category, rng, common_signs=0)
            assert scene.image.shape == (240, 320, 3) and scene.image.dtype == np.uint8
            labels = [SIGN_CLASSES[b[0]] for b in scene.boxes]
            assert set(labels) <= {category}
            if labels:
                found += 1
                assert scene.context_mask is not None and scene.context_mask.any()
                _, x0, y0, x1, y1 = scene.boxes[0]
                assert 0 <= x0 < x1 <= 320 and 0 <= y0 < y1 <= 240
        assert found >= 3  # the sign is in view in most scenes
    scene = render_scene("left_curve", rng, context_sign=False, common_signs=0)
    assert scene.boxes == [] and scene.context_mask is None


def test_detection_set_is_a_yolo_dataset(tmp_path):
    path = write_detection_set(tmp_path, train=6, val=3, seed=0)
    config = yaml.safe_load(path.read_text())
    assert config["names"] == dict(enumerate(SIGN_CLASSES))
    for split, n in (("train", 6), ("val", 3)):
        images = sorted((tmp_path / "images" / split).glob("*.png"))
        labels = sorted((tmp_path / "labels" / split).glob("*.txt"))
        assert len(images) == len(labels) == n
        for label in labels:
            for line in label.read_text().splitlines():
                c, *box = line.split()
                assert 0 <= int(c) < len(SIGN_CLASSES) and all(0 <= float(v) <= 1 for v in box)


def test_missing_set_mixes_inpainted_and_absent_scenes(tmp_path):
    counts = write_missing_set(tmp_path, per_split=(4, 2), splits=("train", "val"), seed=0)
    assert counts == {"train": 4 * len(MISSING_CLASSES), "val": 2 * len(MISSING_CLASSES)}
    names = [p.name for p in (tmp_path / "train" / "left_curve").glob("*.png")]
    assert any(n.startswith("inpainted") for n in names) and any(
        n.startswith("absent") for n in names
    )
    assert all(p.name.startswith("absent") for p in (tmp_path / "train" / "none").glob("*.png"))
