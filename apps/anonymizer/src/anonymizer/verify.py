"""Residual detections: run the detectors again on anonymized outputs and count what they still
find, per file and in total, against what the run replaced (from its review files)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tqdm.auto import tqdm

from anonymizer.detections import LABELS
from anonymizer.detectors import DetectorConfig, build_detectors
from anonymizer.media import MediaError, discover, iter_frames, read_image
from anonymizer.pipeline import REPORT_DIR, output_paths
from core_flows.utils import write_json

__all__ = ["verify"]


def verify(
    out_dir: str | os.PathLike,
    config: DetectorConfig | None = None,
    *,
    stride: int = 1,
    progress: bool = True,
) -> dict:
    """Count faces and plates the detectors still find in ``out_dir`` (videos: every ``stride``-th
    frame). ``residual_rate`` per class is residual detections / detections the run replaced, where
    the run's review files are there to say so. Writes ``out_dir/_anonymize/verify.json``."""
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    config = config or DetectorConfig()
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise ValueError(f"{out_dir}: no such folder")
    items = [
        i for i in discover([str(out_dir)], exclude=[out_dir / REPORT_DIR]) if i.kind != "other"
    ]
    detectors = build_detectors(config)
    files, problems = [], []
    residual = dict.fromkeys(LABELS, 0)
    original = dict.fromkeys(LABELS, 0)
    for item in tqdm(items, unit="file", desc="verify", disable=not progress):
        try:
            frames = (
                iter_frames(item.path, stride)
                if item.kind == "video"
                else [(0, read_image(item.path)[0])]
            )
            found = dict.fromkeys(LABELS, 0)
            checked = 0
            for _, rgb in frames:
                checked += 1
                for detector in detectors:
                    found[detector.label] += sum(
                        min(d.width, d.height) >= config.min_size for d in detector.detect(rgb)
                    )
        except MediaError as err:
            problems.append({"file": str(item.path), "reason": str(err)})
            continue
        entry = {"file": item.rel.as_posix(), "frames_checked": checked, "residual": found}
        before = _replaced(output_paths(item, out_dir)[1], stride)
        if before is not None:
            entry["replaced"] = before
            for label in LABELS:
                original[label] += before[label]
        for label in LABELS:
            residual[label] += found[label]
        files.append(entry)
    checked_labels = [d.label for d in detectors]
    report = {
        "out_dir": str(out_dir),
        "stride": stride,
        "detectors": [f"{d.label}: {d.name}" for d in detectors],
        "files": len(files),
        "files_with_residual": sum(any(e["residual"].values()) for e in files),
        "residual": {k: residual[k] for k in checked_labels},
        "replaced": {k: original[k] for k in checked_labels},
        "residual_rate": {
            k: (residual[k] / original[k] if original[k] else None) for k in checked_labels
        },
        "problems": problems,
        "per_file": files,
    }
    write_json(out_dir / REPORT_DIR / "verify.json", report)
    return report


def _replaced(review: Path, stride: int) -> dict[str, int] | None:
    """Boxes the run replaced in the frames verify checks, from the review file if there is one."""
    try:
        data = json.loads(review.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    counts = dict.fromkeys(LABELS, 0)
    if data.get("kind") == "video":
        # What the detectors found in the checked frames, before boxes were carried to neighbours.
        for frame in data.get("detected_per_frame", [])[::stride]:
            for label in LABELS:
                counts[label] += int(frame.get(label, 0))
        return counts
    for det in data.get("detections", []):
        if det.get("label") in counts:
            counts[det["label"]] += 1
    return counts
