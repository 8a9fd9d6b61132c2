import numpy as np

from traffic_signs.audit import _events, frame_alert
from traffic_signs.signs import MISSING_CLASSES


def probs(category, p=0.9):
    out = np.full(len(MISSING_CLASSES), (1 - p) / (len(MISSING_CLASSES) - 1), np.float32)
    out[MISSING_CLASSES.index(category)] = p
    return out


def test_an_alert_needs_a_sign_category_above_threshold_and_no_such_sign():
    curve = {"class": "left_curve", "confidence": 0.8, "box": [0, 0, 5, 5]}
    stop = {"class": "stop", "confidence": 0.8, "box": [0, 0, 5, 5]}
    assert frame_alert(probs("left_curve"), [stop], 0.5) == {
        "category": "left_curve",
        "confidence": 0.9,
    }
    assert frame_alert(probs("left_curve"), [curve], 0.5) is None  # the sign is there
    assert frame_alert(probs("left_curve", 0.4), [], 0.5) is None  # not sure enough
    assert frame_alert(probs("none"), [], 0.5) is None  # nothing called for


def test_consecutive_video_alerts_merge_into_events():
    alerts = [
        {"file": "a.mp4", "frame": f, "time": f / 5, "category": "left_curve", "confidence": c}
        for f, c in ((0, 0.6), (1, 0.9), (2, 0.7), (40, 0.8))
    ]
    alerts.append(
        {"file": "b.png", "frame": 0, "time": None, "category": "left_curve", "confidence": 0.7}
    )
    events = _events(alerts)
    assert [(e["file"], e["start"], e["end"], e["confidence"]) for e in events] == [
        ("a.mp4", 0.0, 0.4, 0.9),
        ("a.mp4", 8.0, 8.0, 0.8),
        ("b.png", None, None, 0.7),
    ]
