"""Synthetic driving scenes with known faces and plates, for the demo, the tests and the benchmark.

No public driving dataset can be downloaded here, so scenes are drawn: sky, buildings, road, cars
with plates rendered in the Russian GOST layout OpenCV's cascade was trained on, and pedestrians
whose heads are the real face photograph scikit-image ships (``skimage.data.astronaut``, public
domain), rescaled. The ground-truth boxes come with each scene. Real footage is harder (small,
blurred, angled, non-European plates; profile faces): use these only to check the tool works.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from anonymizer.detections import Detection
from app_toolkit.files import write_json
from app_toolkit.media import VideoInfo, write_image, write_video

__all__ = ["face_photo", "render_plate", "street_scene", "write_demo_set"]

# Head and face boxes in skimage.data.astronaut(), 512×512 (face box found by MTCNN).
_HEAD = (140, 20, 310, 230)
_FACE = (181, 62, 268, 172)
_LETTERS = "ABEKMHOPCTYX"


def face_photo() -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The head crop of scikit-image's astronaut photograph and the face box inside it."""
    from skimage import data

    x0, y0, x1, y1 = _HEAD
    head = np.ascontiguousarray(data.astronaut()[y0:y1, x0:x1])
    return head, (_FACE[0] - x0, _FACE[1] - y0, _FACE[2] - x0, _FACE[3] - y0)


def render_plate(width: int, text: str) -> np.ndarray:
    """A white plate with a dark border and dark characters, ``[h, width, 3]`` with h ≈ width/4.6."""
    height = max(8, round(width * 112 / 520))
    plate = np.full((height, width, 3), 235, np.uint8)
    cv2.rectangle(plate, (1, 1), (width - 2, height - 2), (20, 20, 20), max(1, width // 100))
    scale = width / 190
    thick = max(1, round(scale * 2))
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, scale, thick)
    org = ((width - tw) // 2, (height + th) // 2)
    cv2.putText(plate, text, org, cv2.FONT_HERSHEY_DUPLEX, scale, (15, 15, 15), thick, cv2.LINE_AA)
    return plate


def _plate_text(rng: np.random.Generator) -> str:
    a, b, c = rng.choice(list(_LETTERS), 3)
    return f"{a}{rng.integers(0, 1000):03d}{b}{c} {rng.integers(10, 100):02d}"


def _background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    img = np.zeros((height, width, 3), np.float32)
    horizon = int(height * rng.uniform(0.35, 0.45))
    sky = np.linspace(0, 1, horizon)[:, None, None]
    img[:horizon] = (1 - sky) * np.array([120, 170, 230]) + sky * np.array([200, 215, 235])
    x = 0
    while x < width:  # a row of buildings
        bw = int(rng.integers(width // 12, width // 5))
        top = int(rng.integers(height // 12, horizon))
        img[top : horizon + 20, x : x + bw] = rng.integers(70, 190, 3)
        for wy in range(top + 15, horizon, 40):  # windows
            for wx in range(x + 10, x + bw - 20, 35):
                img[wy : wy + 18, wx : wx + 14] = rng.integers(40, 120, 3)
        x += bw
    img[horizon + 20 :] = (95, 95, 100)  # road
    for lx in range(0, width, 160):
        cv2.rectangle(
            img, (lx, int(height * 0.8)), (lx + 80, int(height * 0.8) + 8), (230,) * 3, -1
        )
    noise = rng.normal(0, 6, img.shape)
    return np.clip(cv2.GaussianBlur(img, (0, 0), 1.0) + noise, 0, 255).astype(np.uint8)


def street_scene(
    seed: int = 0, size: tuple[int, int] = (1920, 1080), cars: int = 3, people: int = 2
) -> tuple[np.ndarray, list[Detection]]:
    """A ``size = (width, height)`` RGB scene and the ground-truth face and plate boxes in it."""
    width, height = size
    if width < 320 or height < 240:
        raise ValueError(f"size must be at least 320×240, got {width}×{height}")
    rng = np.random.default_rng(seed)
    img = _background(rng, width, height)
    truth: list[Detection] = []
    s = height / 1080
    slots = rng.permutation(cars + people)
    lane = width / max(1, cars + people)
    for k, slot in enumerate(slots):
        cx = int((slot + 0.5) * lane + rng.uniform(-0.15, 0.15) * lane)
        if k < cars:
            cw = int(rng.uniform(260, 420) * s)
            ch = cw // 2
            y = int(rng.uniform(0.55, 0.7) * height)
            x = int(np.clip(cx - cw // 2, 0, width - cw))
            body = tuple(int(c) for c in rng.integers(30, 220, 3))
            cv2.rectangle(img, (x, y), (x + cw, y + ch), body, -1)
            cv2.rectangle(img, (x + cw // 8, y - ch // 2), (x + 7 * cw // 8, y), body, -1)
            cv2.rectangle(
                img, (x + cw // 5, y - ch // 2 + 8), (x + 4 * cw // 5, y - 6), (60, 70, 80), -1
            )
            for wx in (x + cw // 6, x + 5 * cw // 6):
                cv2.circle(img, (wx, y + ch), max(8, cw // 10), (25, 25, 25), -1)
            plate = render_plate(int(cw * rng.uniform(0.36, 0.46)), _plate_text(rng))
            ph, pw = plate.shape[:2]
            px, py = x + (cw - pw) // 2, y + ch - ph - max(6, ch // 10)
            img[py : py + ph, px : px + pw] = plate
            truth.append(Detection((px, py, px + pw, py + ph), "plate", 1.0, "truth"))
        else:
            head, face = face_photo()
            hh = int(rng.uniform(110, 260) * s)
            hw = int(hh * head.shape[1] / head.shape[0])
            head = cv2.resize(head, (hw, hh), interpolation=cv2.INTER_AREA)
            x = int(np.clip(cx - hw // 2, 0, width - hw))
            y = int(rng.uniform(0.25, 0.45) * height)
            coat = tuple(int(c) for c in rng.integers(20, 200, 3))
            cv2.rectangle(
                img, (x - hw // 6, y + hh), (x + hw + hw // 6, min(height, y + 3 * hh)), coat, -1
            )
            img[y : y + hh, x : x + hw] = head
            f = hh / (_HEAD[3] - _HEAD[1])
            box = (
                x + int(face[0] * f),
                y + int(face[1] * f),
                x + int(face[2] * f),
                y + int(face[3] * f),
            )
            truth.append(Detection(box, "face", 1.0, "truth"))
    return img, truth


def write_demo_set(
    out_dir: str | os.PathLike,
    count: int = 4,
    seed: int = 0,
    size: tuple[int, int] = (1920, 1080),
    video_frames: int = 0,
) -> dict:
    """Write ``count`` scenes as JPEGs (and, with ``video_frames``, a panning MP4 clip) plus
    ``truth.json`` with the ground-truth boxes. Returns the truth."""
    if count < 0 or video_frames < 0:
        raise ValueError("count and video_frames must be >= 0")
    out_dir = Path(out_dir)
    truth = {}
    for i in range(count):
        img, boxes = street_scene(seed + i, size)
        name = f"scene_{i:03d}.jpg"
        write_image(out_dir / name, img)
        truth[name] = [b.to_json() for b in boxes]
    if video_frames:
        width, height = size
        wide, boxes = street_scene(seed + count, (width + 4 * video_frames, height))
        frames, video_truth = [], []
        for t in range(video_frames):
            frames.append(np.ascontiguousarray(wide[:, 4 * t : 4 * t + width]))
            visible = []
            for b in boxes:  # regions cut by the frame's edge are still regions to replace
                x0, x1 = max(0, b.box[0] - 4 * t), min(width, b.box[2] - 4 * t)
                if x1 - x0 >= 4:
                    visible.append(Detection((x0, b.box[1], x1, b.box[3]), b.label, 1.0, "truth"))
            video_truth.append([d.to_json() for d in visible])
        write_video(
            out_dir / "drive.mp4", iter(frames), VideoInfo(10.0, width, height, video_frames)
        )
        truth["drive.mp4"] = video_truth
    write_json(out_dir / "truth.json", truth)
    return truth
