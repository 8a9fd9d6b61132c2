"""Residual detections: run the detectors again on anonymized outputs and count what they still
find, per file and in total, against what the run replaced (from its review files)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from anonymizer.detections import LABELS
from anonymizer.detectors import DetectorConfig, build_detectors
from anonymizer.pipeline import REPORT_DIR, output_paths
from app_toolkit.files import write_json
from app_toolkit.media import MediaError, discover, iter_frames, read_image, video_info

__all__ = ["coverage", "load_truth", "verify"]

COVERED = 0.7  # a true region counts as replaced when boxes cover this share of it


def verify(
    out_dir: str | os.PathLike,
    config: DetectorConfig | None = None,
    *,
    stride: int = 1,
    truth: str | os.PathLike | None = None,
    progress: bool = True,
) -> dict:
    """Count faces and plates the detectors still find in ``out_dir`` (videos: every ``stride``-th
    frame). ``residual_rate`` per class is residual detections / detections the run replaced, where
    the run's review files are there to say so; ``residual_inside_replaced`` counts the residual
    detections that lie inside a replaced region (the replacement did not hide it), the rest are
    misses of the run or false detections. With ``truth`` (a JSON file mapping each input's
    relative path to its true boxes, a list per frame for videos, as ``anonymize synth`` writes),
    also the share of true faces and plates the run replaced (:func:`coverage`). Writes
    ``out_dir/_anonymize/verify.json``."""
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    config = config or DetectorConfig()
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise ValueError(f"{out_dir}: no such folder")
    items = [i for i in discover([str(out_dir)], skip=(REPORT_DIR,)) if i.kind != "other"]
    detectors = build_detectors(config)
    files, problems = [], []
    residual = dict.fromkeys(LABELS, 0)
    inside = dict.fromkeys(LABELS, 0)
    original = dict.fromkeys(LABELS, 0)
    reviewed_residual = dict.fromkeys(LABELS, 0)  # in files the run has review files for
    for item in tqdm(items, unit="file", desc="verify", disable=not progress):
        review = _read_review(output_paths(item, out_dir)[1])
        found = dict.fromkeys(LABELS, 0)
        found_inside = dict.fromkeys(LABELS, 0)
        checked = 0
        try:
            if item.kind == "video":
                video_info(item.path)  # an unreadable video is a problem, not a clean file
                frames = iter_frames(item.path, stride)
            else:
                frames = [(0, read_image(item.path)[0])]
            for index, rgb in frames:
                checked += 1
                done = _replaced_boxes(review, index)
                for detector in detectors:
                    for det in detector.detect(rgb):
                        if min(det.width, det.height) < config.min_size:
                            continue
                        found[det.label] += 1
                        boxes = [b for b, label in done if label == det.label]
                        found_inside[det.label] += _covered(det.box, boxes) >= 0.5
        except MediaError as err:
            problems.append({"file": str(item.path), "reason": str(err)})
            continue
        if checked == 0:
            problems.append({"file": str(item.path), "reason": "no frame could be read"})
            continue
        entry = {
            "file": item.rel.as_posix(),
            "frames_checked": checked,
            "residual": found,
            "residual_inside_replaced": found_inside,
        }
        if review is not None:
            entry["replaced"] = _replaced_counts(review, stride)
            for label in LABELS:
                original[label] += entry["replaced"][label]
                reviewed_residual[label] += found[label]
        for label in LABELS:
            residual[label] += found[label]
            inside[label] += found_inside[label]
        files.append(entry)
    checked_labels = [d.label for d in detectors]
    report = {
        "out_dir": str(out_dir),
        "stride": stride,
        "detectors": [f"{d.label}: {d.name}" for d in detectors],
        "files": len(files),
        "files_with_residual": sum(any(e["residual"].values()) for e in files),
        "residual": {k: residual[k] for k in checked_labels},
        "residual_inside_replaced": {k: inside[k] for k in checked_labels},
        "replaced": {k: original[k] for k in checked_labels},
        "residual_rate": {
            k: (reviewed_residual[k] / original[k] if original[k] else None) for k in checked_labels
        },
        "problems": problems,
        "per_file": files,
    }
    if truth is not None:
        report["truth"] = coverage(out_dir, truth)
    write_json(out_dir / REPORT_DIR / "verify.json", report)
    return report


def _read_review(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _replaced_boxes(review: dict | None, index: int) -> list[tuple[list[int], str]]:
    """``(box, label)`` of what the run replaced in frame ``index`` (0 for an image)."""
    if review is None:
        return []
    if review.get("kind") == "video":
        frames = review.get("frames", [])
        dets = frames[index] if index < len(frames) else []
    else:
        dets = review.get("detections", [])
    return [(d["box"], d["label"]) for d in dets if "box" in d and "label" in d]


def _replaced_counts(review: dict, stride: int) -> dict[str, int]:
    """Boxes the run found in the frames verify checks (for videos, before they were carried to
    neighbouring frames)."""
    counts = dict.fromkeys(LABELS, 0)
    if review.get("kind") == "video":
        for frame in review.get("detected_per_frame", [])[::stride]:
            for label in LABELS:
                counts[label] += int(frame.get(label, 0))
        return counts
    for _, label in _replaced_boxes(review, 0):
        if label in counts:
            counts[label] += 1
    return counts


def _covered(target, boxes) -> float:
    """Share of ``target``'s area inside the union of ``boxes``."""
    x0, y0, x1, y1 = target
    mask = np.zeros((y1 - y0, x1 - x0), bool)
    for bx0, by0, bx1, by1 in boxes:
        mask[max(0, by0 - y0) : max(0, by1 - y0), max(0, bx0 - x0) : max(0, bx1 - x0)] = True
    return float(mask.mean())


def load_truth(truth: str | os.PathLike) -> dict:
    """A truth file: an object mapping each input's relative path to its boxes
    (``[{"box": [x0, y0, x1, y1], "label": "face"}, ...]``; a list per frame for videos), as
    ``anonymize synth`` writes it. Every entry is checked: a label we do not know, a missing key,
    a box that is not four finite numbers or whose corners are swapped or equal raises
    ``ValueError`` naming the file, the image and the box (the first problem, and how many more)."""
    try:
        expected = json.loads(Path(truth).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"--truth {truth}: not a readable JSON file ({err})") from None
    if not isinstance(expected, dict):
        raise ValueError(f"--truth {truth}: expected an object mapping file names to boxes")
    problems = [
        f"{rel}: {problem}" for rel, boxes in expected.items() for problem in _truth_problems(boxes)
    ]
    if problems:
        n = len(problems) - 1
        more = f" (and {n} more problem{'s' * (n > 1)})" if n else ""
        raise ValueError(f"--truth {truth}: {problems[0]}{more}")
    return expected


def _truth_problems(boxes) -> list[str]:
    """What is wrong with one file's truth entry: a list of boxes, or of frames of boxes."""
    if not isinstance(boxes, list):
        return [f"expected a list of boxes, found {type(boxes).__name__}"]
    frames = boxes if boxes and all(isinstance(b, list) for b in boxes) else None
    problems = []
    for f, frame in enumerate(frames if frames is not None else [boxes]):
        where = f"frame {f}, " if frames is not None else ""
        for i, region in enumerate(frame):
            problem = _region_problem(region)
            if problem:
                problems.append(f"{where}box {i}: {problem}")
    return problems


def _region_problem(region) -> str | None:
    if not isinstance(region, dict):
        return f"expected an object with box and label, found {type(region).__name__}"
    if region.get("label") not in LABELS:
        return f"label {region.get('label')!r} is not one of {', '.join(LABELS)}"
    box = region.get("box")
    if not (isinstance(box, list) and len(box) == 4):
        return f"box must be [x0, y0, x1, y1], found {box!r}"
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in box) or not all(
        math.isfinite(v) for v in box
    ):
        return f"box must hold four finite numbers, found {box!r}"
    if box[2] <= box[0] or box[3] <= box[1]:
        return f"box {box} has x1 <= x0 or y1 <= y0 (corners swapped, or no area)"
    return None


def coverage(out_dir: str | os.PathLike, truth: str | os.PathLike) -> dict:
    """Against known boxes: per class, how many true regions the run's review files cover (at
    least 70% of their area replaced) and how many replaced boxes touch no true region."""
    expected = load_truth(truth)
    stats = {label: {"true": 0, "covered": 0, "replaced": 0, "false": 0} for label in LABELS}
    for rel, boxes in expected.items():
        review = Path(out_dir) / REPORT_DIR / "reviews" / f"{rel}.json"
        try:
            data = json.loads(review.read_text())
        except (OSError, json.JSONDecodeError):
            continue  # not anonymized (or not an input of this run)
        frames = data.get("frames") if data.get("kind") == "video" else [data.get("detections", [])]
        truths = boxes if data.get("kind") == "video" else [boxes]
        for true_frame, done_frame in zip(truths, frames):
            for label in LABELS:
                true = [t["box"] for t in true_frame if t["label"] == label]
                done = [d["box"] for d in done_frame if d["label"] == label]
                st = stats[label]
                st["true"] += len(true)
                st["covered"] += sum(_covered(t, done) >= COVERED for t in true)
                st["replaced"] += len(done)
                st["false"] += sum(not any(_covered(d, [t]) > 0 for t in true) for d in done)
    for st in stats.values():
        st["recall"] = st["covered"] / st["true"] if st["true"] else None
    return stats
