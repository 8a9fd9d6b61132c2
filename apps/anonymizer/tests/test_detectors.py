import numpy as np
import pytest
import torch

from anonymizer.detectors import (
    CascadePlateDetector,
    DetectorConfig,
    MTCNNFaceDetector,
    YOLODetector,
    build_detectors,
    detections_from_result,
    select_classes,
)
from anonymizer.synth import street_scene
from anonymizer_test_utils import ASTRONAUT_FACE, overlap


def test_mtcnn_finds_the_astronaut_face(astronaut):
    found = MTCNNFaceDetector(device="cpu").detect(astronaut)
    assert len(found) == 1
    assert found[0].label == "face" and found[0].score > 0.99
    assert overlap(found[0].box, ASTRONAUT_FACE) > 0.9


def test_mtcnn_finds_nothing_on_a_blank_image():
    assert MTCNNFaceDetector(device="cpu").detect(np.full((240, 320, 3), 128, np.uint8)) == []


def test_cascade_finds_the_plates_of_synthetic_scenes():
    detector = CascadePlateDetector()
    hits = total = false = 0
    for seed in range(3):
        scene, truth = street_scene(seed, (1920, 1080))
        found = detector.detect(scene)
        plates = [t for t in truth if t.label == "plate"]
        total += len(plates)
        hits += sum(any(overlap(t.box, f.box) > 0.7 for f in found) for t in plates)
        false += sum(not any(overlap(t.box, f.box) > 0.3 for t in plates) for f in found)
    assert hits / total >= 0.8, f"found {hits} of {total} plates"
    assert false <= 2, f"{false} false plate boxes"


def test_detector_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match="threshold"):
        MTCNNFaceDetector(threshold=1.5)
    with pytest.raises(ValueError, match="neighbors"):
        CascadePlateDetector(neighbors=0)
    with pytest.raises(ValueError, match="--plate-weights: no such file"):
        YOLODetector(tmp_path / "missing.pt", "plate")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not loadable YOLO weights"):
        YOLODetector(bad, "plate")
    with pytest.raises(ValueError, match="nothing to detect"):
        DetectorConfig(faces=False, plates=False)


def test_build_detectors_follows_the_config():
    names = [(d.label, d.name) for d in build_detectors(DetectorConfig(device="cpu"))]
    assert names == [("face", "retinaface"), ("plate", "clp_det")]
    older = DetectorConfig(face_detector="mtcnn", plate_detector="cascade", device="cpu")
    assert [d.name for d in build_detectors(older)] == ["mtcnn", "cascade"]
    only_plates = build_detectors(DetectorConfig(faces=False, device="cpu"))
    assert [d.name for d in only_plates] == ["clp_det"]


@pytest.fixture(scope="module")
def yolo_weights(tmp_path_factory):
    """Randomly initialised YOLO weights from ultralytics' own model YAML (no download)."""
    from ultralytics import YOLO

    model = YOLO("yolov8n.yaml", task="detect")
    model.model.names = {0: "car", 1: "license_plate"}
    path = tmp_path_factory.mktemp("yolo") / "plates.pt"
    model.save(path)
    return path


def test_user_yolo_weights_load_and_run(yolo_weights):
    detector = YOLODetector(yolo_weights, "plate", threshold=0.01, imgsz=320)
    assert detector.classes == [1]
    found = detector.detect(street_scene(0, (640, 360))[0])
    assert all(d.label == "plate" and d.source == "yolo" for d in found)
    config = DetectorConfig(faces=False, plate_weights=str(yolo_weights), device="cpu")
    assert [d.name for d in build_detectors(config)] == ["yolo"]


def test_yolo_results_become_detections():
    from ultralytics.engine.results import Results

    image = np.zeros((100, 200, 3), np.uint8)
    boxes = torch.tensor(
        [[10, 20, 50, 40, 0.9, 1], [0, 0, 30, 30, 0.8, 0], [150, 80, 260, 120, 0.7, 1]]
    )
    result = Results(image, path="x.jpg", names={0: "car", 1: "plate"}, boxes=boxes)
    found = detections_from_result(result, "plate", [1], "yolo")
    assert [d.box for d in found] == [(10, 20, 50, 40), (150, 80, 200, 100)]  # clipped
    assert found[0].score == pytest.approx(0.9)
    assert select_classes({0: "car", 1: "Licence Plate"}, "plate") == [1]
    assert select_classes({0: "object"}, "plate") is None  # one-class models: every class
