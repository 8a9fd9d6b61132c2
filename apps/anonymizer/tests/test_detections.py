import pytest

from anonymizer.detections import Detection, adjust_box, merge_frames


def test_adjust_box_grows_shrinks_and_clips():
    assert adjust_box((10, 10, 30, 20), 0.0, 100, 100) == (10, 10, 30, 20)
    assert adjust_box((10, 10, 30, 20), 0.5, 100, 100) == (0, 5, 40, 25)
    assert adjust_box((10, 10, 30, 20), -0.25, 100, 100) == (15, 12, 25, 18)
    assert adjust_box((90, 90, 120, 130), 0.0, 100, 100) == (90, 90, 100, 100)
    assert adjust_box((110, 110, 120, 130), 0.0, 100, 100) is None
    with pytest.raises(ValueError, match="grow"):
        adjust_box((0, 0, 10, 10), -0.5, 100, 100)


def test_detection_checks_and_json_round_trip():
    det = Detection((1, 2, 30, 40), "plate", 0.123456, "cascade", "blur")
    back = Detection.from_json(det.to_json())
    assert (back.box, back.label, back.source, back.method) == (det.box, "plate", "cascade", "blur")
    assert back.score == pytest.approx(0.1235)
    assert Detection.from_json({"box": [1.4, 2, 30.6, 40], "label": "face"}).box == (1, 2, 31, 40)
    with pytest.raises(ValueError, match="label"):
        Detection((0, 0, 1, 1), "car")
    with pytest.raises(ValueError, match="x1 > x0"):
        Detection((5, 0, 5, 1), "face")
    with pytest.raises(ValueError, match="box"):
        Detection.from_json({"box": [1, 2, 3], "label": "face"})


def test_merge_frames_carries_boxes_to_neighbours():
    a = Detection((0, 0, 10, 10), "face")
    b = Detection((50, 50, 60, 60), "plate")
    frames = [[a], [], [], [b], []]
    merged = merge_frames(frames, persist=1)
    assert merged == [[a], [a], [b], [b], [b]]
    assert merge_frames(frames, 0) == frames
    assert merge_frames([[a], [a]], 1) == [[a], [a]]  # no duplicates
