import numpy as np
import pytest

from anonymizer.detections import Detection
from anonymizer.detectors import MTCNNFaceDetector
from anonymizer.replace import METHODS, build_replacer, region_alpha, window
from anonymizer_test_utils import ASTRONAUT_FACE

FACE = Detection((171, 45, 279, 190), "face", 1.0)  # the astronaut's face, grown


@pytest.mark.parametrize("method", [m for m in METHODS if m != "sd-inpaint"])
def test_every_method_replaces_the_face_and_nothing_else(astronaut, method):
    before = astronaut.copy()
    out = build_replacer(method)(astronaut, [FACE])
    assert np.array_equal(astronaut, before), "input was modified"
    assert out.shape == astronaut.shape and out.dtype == np.uint8
    x0, y0, x1, y1 = window(FACE, astronaut.shape)
    outside = np.ones(astronaut.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(out[outside], astronaut[outside])
    fx0, fy0, fx1, fy1 = ASTRONAUT_FACE
    changed = np.abs(out[fy0:fy1, fx0:fx1].astype(int) - astronaut[fy0:fy1, fx0:fx1]).mean()
    assert changed > 10
    assert MTCNNFaceDetector(device="cpu").detect(out) == [], f"{method} left a face"


def test_alpha_is_one_on_the_region_and_feathers_outside():
    det = Detection((20, 20, 60, 40), "plate")
    win = (0, 0, 100, 80)
    alpha = region_alpha(det, win, (200, 200))
    assert alpha.shape == (80, 100)
    assert np.all(alpha[20:40, 20:60] == 1.0)
    assert 0 < alpha[40 + 1, 40] < 1 and alpha[0, 0] == 0
    face = region_alpha(Detection((20, 20, 60, 70), "face"), win, (200, 200))
    assert face[45, 40] == 1.0 and face[21, 21] < 1.0  # an ellipse: the corners blend


def test_sd_inpaint_runs_end_to_end_with_a_tiny_local_pipeline(tiny_sd, astronaut):
    replacer = build_replacer("sd-inpaint", str(tiny_sd), device="cpu", steps=2, size=64)
    plate = Detection((300, 400, 380, 420), "plate")
    out = replacer(astronaut, [FACE, plate])
    assert out.shape == astronaut.shape and out.dtype == np.uint8
    fx0, fy0, fx1, fy1 = ASTRONAUT_FACE
    assert np.abs(out[fy0:fy1, fx0:fx1].astype(int) - astronaut[fy0:fy1, fx0:fx1]).mean() > 10
    assert np.array_equal(out[450:], astronaut[450:])
    again = build_replacer("sd-inpaint", str(tiny_sd), device="cpu", steps=2, size=64)
    assert np.array_equal(again(astronaut, [FACE, plate]), out), "same seed, same output"


def test_sd_inpaint_needs_a_local_pipeline_folder(tmp_path):
    with pytest.raises(ValueError, match="needs --sd-model"):
        build_replacer("sd-inpaint")
    with pytest.raises(ValueError, match="no such folder"):
        build_replacer("sd-inpaint", str(tmp_path / "nope"))
    with pytest.raises(ValueError, match="model_index.json"):
        build_replacer("sd-inpaint", str(tmp_path))
    with pytest.raises(ValueError, match="method must be"):
        build_replacer("smudge")


@pytest.mark.parametrize("method", ["cv-inpaint", "blur", "solid"])
def test_a_face_cut_by_the_frame_edge_is_replaced_whole(astronaut, method):
    cut = Detection((0, 40, 60, 200), "face")  # the left part of a face outside the frame
    alpha = region_alpha(cut, (0, 0, 150, 300), astronaut.shape)
    assert np.all(alpha[40:200, 0:60] == 1.0)
    out = build_replacer(method)(astronaut, [cut])
    changed = np.any(out[40:200, 0:60] != astronaut[40:200, 0:60], axis=-1)
    assert changed.mean() > 0.95


def test_sd_inpaint_covers_regions_larger_than_any_square(tiny_sd):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (100, 600, 3), dtype=np.uint8)
    wide = Detection((50, 20, 550, 80), "plate")  # wider than the image is tall
    out = build_replacer("sd-inpaint", str(tiny_sd), device="cpu", steps=2, size=64)(image, [wide])
    same = np.all(out[20:80, 50:550] == image[20:80, 50:550], axis=-1)
    assert same.mean() < 0.05
