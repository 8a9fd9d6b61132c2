"""Helpers shared by the anonymizer tests (fixtures live in conftest.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

# Face box of skimage.data.astronaut() (found by MTCNN), used to check detections.
ASTRONAUT_FACE = (181, 62, 268, 172)


def tree_digest(root: Path) -> dict[str, str]:
    """SHA-256 of every file below ``root``, by relative path."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def overlap(a, b) -> float:
    """Intersection over the smaller box."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    return w * h / min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
