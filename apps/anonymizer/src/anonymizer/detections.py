"""Detections (a box, a class, a score) and the box arithmetic every detector shares."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = ["LABELS", "Detection", "adjust_box", "grow_points", "merge_frames"]

LABELS = ("face", "plate")


@dataclass(frozen=True)
class Detection:
    """One region to replace, in pixel coordinates of the image it was found in.

    ``box`` is ``(x0, y0, x1, y1)`` with ``x1``/``y1`` exclusive. ``score`` is the detector's
    confidence in [0, 1], or ``None`` for detectors that give none (the OpenCV cascade, boxes added
    by hand in a review file). ``method`` is the replacement used for this box, when it was chosen.
    ``points``, when the detector gives them, is the region's outline (a plate's four corners, in
    order): a tilted plate is replaced as the quadrilateral it is, not as its bounding box.
    """

    box: tuple[int, int, int, int]
    label: str
    score: float | None = None
    source: str = ""
    method: str | None = field(default=None, compare=False)
    points: tuple[tuple[float, float], ...] | None = field(default=None, compare=False)

    def __post_init__(self):
        if self.label not in LABELS:
            raise ValueError(f"label must be one of {LABELS}, got {self.label!r}")
        x0, y0, x1, y1 = self.box
        if not (x1 > x0 and y1 > y0):
            raise ValueError(
                f"box must be (x0, y0, x1, y1) with x1 > x0 and y1 > y0, got {self.box}"
            )

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]

    def to_json(self) -> dict:
        data = asdict(self)
        data["box"] = list(self.box)
        if self.points is None:
            data.pop("points")
        else:
            data["points"] = [[round(float(x), 1), round(float(y), 1)] for x, y in self.points]
        if self.score is not None:
            data["score"] = round(float(self.score), 4)
        return data

    @classmethod
    def from_json(cls, data: dict) -> Detection:
        if not isinstance(data, dict) or "box" not in data or "label" not in data:
            raise ValueError(f"a detection needs 'box' and 'label', got {data!r}")
        box = data["box"]
        if not (
            isinstance(box, list | tuple)
            and len(box) == 4
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in box)
            and all(abs(v) < 1e7 for v in box)
        ):
            raise ValueError(f"'box' must be [x0, y0, x1, y1] in pixels, got {box!r}")
        score = data.get("score")
        points = data.get("points")
        if points is not None:
            try:
                points = tuple((float(x), float(y)) for x, y in points)
            except (TypeError, ValueError):
                raise ValueError(
                    f"'points' must be [[x, y], ...] in pixels, got {points!r}"
                ) from None
            if len(points) < 3:
                raise ValueError(f"'points' needs at least 3 corners, got {len(points)}")
        return cls(
            box=tuple(int(round(float(v))) for v in box),
            label=str(data["label"]),
            score=None if score is None else float(score),
            source=str(data.get("source", "review")),
            method=data.get("method"),
            points=points,
        )


def adjust_box(
    box: tuple[float, float, float, float], grow: float, width: int, height: int
) -> tuple[int, int, int, int] | None:
    """Grow (``grow > 0``) or shrink (``grow < 0``) a box by ``grow`` of its size on every side,
    round outwards and clip to the image; ``None`` when nothing of it is left inside."""
    if grow <= -0.5:
        raise ValueError(
            f"grow must be > -0.5 (a box shrunk by half on each side is empty), got {grow}"
        )
    x0, y0, x1, y1 = (float(v) for v in box)
    dx, dy = grow * (x1 - x0), grow * (y1 - y0)
    x0, y0, x1, y1 = x0 - dx, y0 - dy, x1 + dx, y1 + dy
    ix0, iy0 = max(0, int(x0)), max(0, int(y0))
    ix1, iy1 = min(width, int(-(-x1 // 1))), min(height, int(-(-y1 // 1)))
    if ix1 <= ix0 or iy1 <= iy0:
        return None
    return ix0, iy0, ix1, iy1


def grow_points(
    points: tuple[tuple[float, float], ...], grow: float
) -> tuple[tuple[float, float], ...]:
    """An outline scaled about its centroid as :func:`adjust_box` scales a box (``1 + 2·grow``)."""
    pts = np.asarray(points, np.float64)
    centre = pts.mean(axis=0)
    return tuple(map(tuple, centre + (pts - centre) * (1 + 2 * grow)))


def merge_frames(per_frame: list[list[Detection]], persist: int) -> list[list[Detection]]:
    """For video: each frame also gets the boxes of the ``persist`` frames before and after it, so
    a face or plate missed in a few frames of a track is still replaced there."""
    if persist < 0:
        raise ValueError(f"persist must be >= 0, got {persist}")
    if persist == 0:
        return [list(d) for d in per_frame]
    merged = []
    for t in range(len(per_frame)):
        seen: dict[tuple, Detection] = {}
        for s in range(max(0, t - persist), min(len(per_frame), t + persist + 1)):
            for det in per_frame[s]:
                seen.setdefault((det.box, det.label), det)
        merged.append(list(seen.values()))
    return merged
