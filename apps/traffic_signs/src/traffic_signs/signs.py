"""Sign classes and pictograms: the four context-dependent warning signs of the missing-sign task
(C4MTS) and four common regulatory signs, drawn as RGBA patches."""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["CONTEXT_CATEGORIES", "MISSING_CLASSES", "SIGN_CLASSES", "draw_sign"]

# The categories whose sign the road's geometry calls for (C4MTS), in the order of its task.
CONTEXT_CATEGORIES = ("left_curve", "right_curve", "gap_in_median", "side_road_left")
SIGN_CLASSES = (*CONTEXT_CATEGORIES, "stop", "yield", "speed_limit", "no_entry")
# Scene-context classes: the four categories, or no sign called for.
MISSING_CLASSES = (*CONTEXT_CATEGORIES, "none")

RED = (200, 30, 35)
WHITE = (245, 245, 240)
BLACK = (20, 20, 20)


def _triangle(canvas: np.ndarray, s: int, down: bool = False) -> None:
    top, bottom = (int(s * 0.06), int(s * 0.94)) if not down else (int(s * 0.94), int(s * 0.06))
    pts = np.array([[s // 2, top], [int(s * 0.04), bottom], [int(s * 0.96), bottom]], np.int32)
    cv2.fillConvexPoly(canvas, pts, (*RED, 255), cv2.LINE_AA)
    inner = ((pts - pts.mean(0)) * 0.72 + pts.mean(0)).astype(np.int32)
    cv2.fillConvexPoly(canvas, inner, (*WHITE, 255), cv2.LINE_AA)


def draw_sign(kind: str, size: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """An RGBA ``uint8 [size, size, 4]`` picture of sign ``kind`` (alpha 0 outside the sign)."""
    if kind not in SIGN_CLASSES:
        raise ValueError(f"sign must be one of {SIGN_CLASSES}, got {kind!r}")
    rng = rng or np.random.default_rng()
    s = 128  # drawn large, then reduced: smooth edges at any size
    c = np.zeros((s, s, 4), np.uint8)
    t = max(2, s // 14)  # symbol stroke
    if kind in CONTEXT_CATEGORIES:
        _triangle(c, s)
        if kind in ("left_curve", "right_curve"):
            pts = np.array([[64, 100], [64, 78], [60, 64], [50, 54], [46, 46]], np.int32)
            head = np.array([[36, 52], [44, 34], [54, 44]], np.int32)
            if kind == "right_curve":
                pts[:, 0], head[:, 0] = s - pts[:, 0], s - head[:, 0]
            cv2.polylines(c, [pts], False, (*BLACK, 255), t, cv2.LINE_AA)
            cv2.fillConvexPoly(c, head, (*BLACK, 255), cv2.LINE_AA)
        elif kind == "gap_in_median":
            for x in (52, 76):  # the two carriageways' median kerbs, broken in the middle
                cv2.line(c, (x, 44), (x, 62), (*BLACK, 255), t, cv2.LINE_AA)
                cv2.line(c, (x, 80), (x, 100), (*BLACK, 255), t, cv2.LINE_AA)
            cv2.line(c, (40, 71), (88, 71), (*BLACK, 255), t - 1, cv2.LINE_AA)
        else:  # side road left
            cv2.line(c, (72, 102), (72, 42), (*BLACK, 255), t, cv2.LINE_AA)
            cv2.line(c, (72, 72), (42, 72), (*BLACK, 255), t, cv2.LINE_AA)
    elif kind == "stop":
        angles = np.deg2rad(22.5 + 45 * np.arange(8))
        pts = np.stack([64 + 60 * np.cos(angles), 64 + 60 * np.sin(angles)], 1).astype(np.int32)
        cv2.fillConvexPoly(c, pts, (*WHITE, 255), cv2.LINE_AA)
        cv2.fillConvexPoly(c, ((pts - 64) * 0.9 + 64).astype(np.int32), (*RED, 255), cv2.LINE_AA)
        cv2.putText(c, "STOP", (18, 78), cv2.FONT_HERSHEY_SIMPLEX, 1.25, (*WHITE, 255), 5)
    elif kind == "yield":
        _triangle(c, s, down=True)
    elif kind == "speed_limit":
        cv2.circle(c, (64, 64), 60, (*RED, 255), -1, cv2.LINE_AA)
        cv2.circle(c, (64, 64), 46, (*WHITE, 255), -1, cv2.LINE_AA)
        text = str(int(rng.choice([30, 40, 50, 60, 80])))
        cv2.putText(c, text, (30, 82), cv2.FONT_HERSHEY_SIMPLEX, 1.7, (*BLACK, 255), 6)
    else:  # no entry
        cv2.circle(c, (64, 64), 60, (*RED, 255), -1, cv2.LINE_AA)
        cv2.rectangle(c, (24, 54), (104, 74), (*WHITE, 255), -1)
    return cv2.resize(c, (size, size), interpolation=cv2.INTER_AREA)
