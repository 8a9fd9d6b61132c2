"""Sign detection with an ultralytics YOLO detector, and drawing its boxes."""

from __future__ import annotations

import os

import cv2
import numpy as np

from traffic_signs.yolo import load_yolo

__all__ = ["detect_frames", "draw_detections", "load_detector"]


def load_detector(weights: str | os.PathLike = "default"):
    """``default`` (shipped, trained on synthetic scenes), a saved folder, a ``.pt`` or a YAML."""
    return load_yolo(weights, "detect", "detector")


def detect_frames(
    model,
    frames: list[np.ndarray],
    conf: float = 0.25,
    device: str = "cpu",
    imgsz: int | None = None,
) -> list[list[dict]]:
    """For each RGB frame, its detections: ``{"class", "confidence", "box": [x0, y0, x1, y1]}`` in
    pixels, most confident first. ``imgsz``: the network's input size (default: the size the model
    was trained at)."""
    if not 0 < conf < 1:
        raise ValueError(f"confidence threshold must be in (0, 1), got {conf}")
    names = model.model.names
    out = []
    for start in range(0, len(frames), 16):
        chunk = [np.ascontiguousarray(f[..., ::-1]) for f in frames[start : start + 16]]
        size = {"imgsz": imgsz} if imgsz else {}
        for r in model.predict(chunk, conf=conf, device=device, verbose=False, **size):
            boxes = r.boxes
            found = [
                {
                    "class": names[int(c)],
                    "confidence": round(float(p), 4),
                    "box": [round(float(v), 1) for v in xyxy],
                }
                for xyxy, p, c in zip(
                    boxes.xyxy.cpu().numpy(), boxes.conf.cpu().numpy(), boxes.cls.cpu().numpy()
                )
            ]
            out.append(sorted(found, key=lambda d: -d["confidence"]))
    return out


def draw_detections(frame: np.ndarray, detections: list[dict], alert: str | None = None):
    """A copy of the RGB frame with boxes and labels (OpenCV's built-in font: nothing to fetch)
    and, with ``alert``, a banner naming the missing sign."""
    img = frame.copy()
    scale = max(0.35, img.shape[1] / 900)
    for d in detections:
        x0, y0, x1, y1 = (int(round(v)) for v in d["box"])
        cv2.rectangle(img, (x0, y0), (x1, y1), (255, 0, 255), max(1, int(scale * 2)))
        label = f"{d['class']} {d['confidence']:.2f}"
        cv2.putText(
            img, label, (x0, max(10, y0 - 3)), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 0, 255), 1
        )
    if alert:
        h = int(22 * scale / 0.35 * 0.6) + 8
        cv2.rectangle(img, (0, 0), (img.shape[1], h), (200, 0, 0), -1)
        cv2.putText(img, alert, (4, h - 6), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1)
    return img
