"""Review files (what was replaced, as JSON a person can edit) and preview images.

A review file lists every box that was replaced in one output, with its class, score, detector and
method. Editing it (adding a missed box, deleting a false one, changing a method) and running
``anonymize apply-review`` re-renders the output from the original input.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import cv2
import numpy as np

from anonymizer.detections import Detection, adjust_box
from anonymizer.replace import METHODS
from app_toolkit.files import write_json

__all__ = ["FORMAT", "Review", "draw_boxes", "read_review", "write_review"]

FORMAT = "anonymizer-review/1"
COLORS = {"face": (255, 64, 64), "plate": (64, 160, 255)}


class Review(dict):
    """The parsed review file: ``input``, ``output``, ``kind``, ``method``, and ``detections`` (an
    image) or ``frames`` (a video: one list of detections per frame)."""

    @property
    def detections(self) -> list[Detection]:
        return self["detections"]

    @property
    def frames(self) -> list[list[Detection]]:
        return self["frames"]


def write_review(
    path: str | os.PathLike,
    *,
    input: Path,
    output: Path,
    kind: str,
    size: tuple[int, int],
    method: str,
    detections: list[Detection] | None = None,
    frames: list[list[Detection]] | None = None,
    **extra,
) -> Path:
    data = {
        "format": FORMAT,
        "input": str(Path(input).resolve()),
        "output": str(Path(output).resolve()),
        "kind": kind,
        "size": list(size),
        "method": method,
        **extra,
    }
    if kind == "video":
        data["frames"] = [[d.to_json() for d in frame] for frame in frames]
    else:
        data["detections"] = [d.to_json() for d in detections]
    return write_json(path, data)


def read_review(path: str | os.PathLike) -> Review:
    """Parse and check a review file; a ``ValueError`` names what is wrong."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"{path}: no such review file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path}: not an anonymizer review file (format must be {FORMAT!r})")
    for key in ("input", "output", "kind", "size", "method"):
        if key not in data:
            raise ValueError(f"{path}: missing {key!r}")
    for key in ("input", "output"):
        if not isinstance(data[key], str) or not data[key]:
            raise ValueError(f"{path}: {key!r} must be a file path, got {data[key]!r}")
    if data["kind"] not in ("image", "video"):
        raise ValueError(f"{path}: 'kind' must be 'image' or 'video', got {data['kind']!r}")
    size = data["size"]
    if not (
        isinstance(size, list)
        and len(size) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
    ):
        raise ValueError(f"{path}: 'size' must be [width, height], got {size!r}")
    if data["method"] not in METHODS:
        raise ValueError(f"{path}: 'method' must be one of {METHODS}, got {data['method']!r}")
    try:
        if data["kind"] == "video":
            frames = data.get("frames")
            if not isinstance(frames, list) or not all(isinstance(f, list) for f in frames):
                raise ValueError("'frames' must be a list of lists of boxes")
            data["frames"] = [[_detection(d, size) for d in f] for f in frames]
        else:
            dets = data.get("detections")
            if not isinstance(dets, list):
                raise ValueError("'detections' must be a list of boxes")
            data["detections"] = [_detection(d, size) for d in dets]
    except (ValueError, TypeError, OverflowError) as err:
        raise ValueError(f"{path}: {err}") from None
    return Review(data)


def _detection(data, size: list[int]) -> Detection:
    """A detection from a review, its box clipped to the image; a box outside it is an error."""
    det = Detection.from_json(data)
    if det.method is not None and det.method not in METHODS:
        raise ValueError(
            f"box {list(det.box)}: 'method' must be one of {METHODS}, got {det.method!r}"
        )
    box = adjust_box(det.box, 0.0, size[0], size[1])
    if box is None:
        raise ValueError(f"box {list(det.box)} lies outside the {size[0]}×{size[1]} image")
    return dataclasses.replace(det, box=box)


def draw_boxes(rgb: np.ndarray, detections: list[Detection]) -> np.ndarray:
    """A copy of ``rgb`` with each box outlined and labelled (class, score)."""
    out = rgb.copy()
    thick = max(2, round(max(out.shape[:2]) / 600))
    for det in detections:
        color = COLORS.get(det.label, (255, 255, 0))
        x0, y0, x1, y1 = det.box
        cv2.rectangle(out, (x0, y0), (x1 - 1, y1 - 1), color, thick)
        text = det.label if det.score is None else f"{det.label} {det.score:.2f}"
        scale = 0.4 * thick
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        ty = y0 - 3 if y0 - th - 6 >= 0 else y1 + th + 3
        cv2.rectangle(out, (x0, ty - th - 3), (x0 + tw + 2, ty + 3), color, -1)
        cv2.putText(out, text, (x0 + 1, ty), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick)
    return out
