"""Auditing a road: per frame the signs found, and missing-sign alerts where the context calls for a
warning sign that was not detected; reports as JSON, CSV, PNG and HTML. Images, folders and videos
are read frame by frame; bad files are reported and skipped."""

from __future__ import annotations

import html
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from app_toolkit.files import atomic_write, check_output_dir, write_csv, write_json
from app_toolkit.media import (
    MediaError,
    discover,
    iter_frames,
    read_image,
    video_info,
    write_image,
)
from traffic_signs.context import predict_context
from traffic_signs.detector import detect_frames, draw_detections
from traffic_signs.signs import CONTEXT_CATEGORIES, MISSING_CLASSES

__all__ = ["AuditConfig", "audit", "frame_alert", "iter_media_frames"]

log = logging.getLogger(__name__)

REPORT_DIR = "_audit"  # alert images inside the output folder


@dataclass
class AuditConfig:
    conf: float = 0.25  # detector confidence threshold
    alert_threshold: float = 0.5  # context probability that raises an alert
    stride: int = 1  # every n-th video frame
    device: str = "cpu"
    save_frames: bool = True  # annotated alert frames as PNG


def frame_alert(probs: np.ndarray, detections: list[dict], threshold: float) -> dict | None:
    """The missing-sign alert of one frame, or None: the most probable context category, when it
    is a sign category, reaches ``threshold`` and no sign of that category was detected."""
    k = int(probs.argmax())
    category = MISSING_CLASSES[k]
    if category not in CONTEXT_CATEGORIES or probs[k] < threshold:
        return None
    if any(d["class"] == category for d in detections):
        return None
    return {"category": category, "confidence": round(float(probs[k]), 4)}


def iter_media_frames(item, stride: int = 1):
    """``(frame index, time in s or None, RGB frame)`` of an image (one frame) or a video."""
    if item.kind == "image":
        yield 0, None, read_image(item.path)[0]
        return
    fps = video_info(item.path).fps
    for index, frame in iter_frames(item.path, stride):
        yield index, index / fps, frame


def audit(
    sources: list[str], out_dir: str | os.PathLike, detector, context, config: AuditConfig
) -> dict:
    """Audit every image and video in ``sources`` into ``out_dir``: ``report.json`` (every frame's
    detections, context probabilities and alert), ``alerts.csv``, ``report.html`` and
    ``alerts.png``, and annotated alert frames in ``_audit/``."""
    if not 0 < config.alert_threshold < 1:
        raise ValueError(f"alert threshold must be in (0, 1), got {config.alert_threshold}")
    if config.stride < 1:
        raise ValueError(f"stride must be >= 1, got {config.stride}")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"--out {out_dir} is a file, not a folder")
    check_output_dir(out_dir, sources)
    items = discover(sources, skip=(REPORT_DIR,))
    files, skipped, alerts = [], [], []
    frames_done, start = 0, time.perf_counter()
    bar = tqdm(items, desc="audit", unit="file", disable=not log.isEnabledFor(logging.INFO))
    for item in bar:
        if item.kind == "other":
            skipped.append(f"{item.path}: not an image or video")
            continue
        try:
            records = _audit_file(item, detector, context, config, out_dir, alerts)
        except MediaError as err:
            skipped.append(f"{item.path}: {err}")
            log.warning("skipped %s: %s", item.path, err)
            continue
        frames_done += len(records)
        files.append({"file": str(item.rel), "kind": item.kind, "frames": records})
    seconds = time.perf_counter() - start
    if not files:
        raise ValueError(f"no readable image or video in {', '.join(sources)}")
    events = _events(alerts)
    report = {
        "files": files,
        "alerts": alerts,
        "events": events,
        "skipped": skipped,
        "frames": frames_done,
        "seconds": round(seconds, 3),
        "frames_per_second": round(frames_done / max(seconds, 1e-9), 3),
        "config": vars(config),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "report.json", report)
    _write_csv(out_dir / "alerts.csv", alerts)
    _plot_alerts(alerts, out_dir / "alerts.png")
    _write_html(out_dir / "report.html", report)
    return report


def _audit_file(item, detector, context, config, out_dir, alerts) -> list[dict]:
    records, batch = [], []

    def flush():
        frames = [f for _, _, f in batch]
        detections = detect_frames(detector, frames, config.conf, config.device)
        probs = predict_context(context, frames, config.device)
        for (index, t, frame), dets, p in zip(batch, detections, probs):
            alert = frame_alert(p, dets, config.alert_threshold)
            record = {
                "frame": index,
                "time": None if t is None else round(t, 3),
                "detections": dets,
                "context": {c: round(float(v), 4) for c, v in zip(MISSING_CLASSES, p)},
                "alert": alert,
            }
            if alert:
                alert = {"file": str(item.rel), "frame": index, "time": record["time"], **alert}
                if config.save_frames:
                    name = f"{item.rel.as_posix().replace('/', '__')}__{index:06d}.png"
                    text = f"missing: {alert['category']} ({alert['confidence']:.2f})"
                    write_image(out_dir / REPORT_DIR / name, draw_detections(frame, dets, text))
                    alert["image"] = f"{REPORT_DIR}/{name}"
                alerts.append(alert)
            records.append(record)
        batch.clear()

    for index, t, frame in iter_media_frames(item, config.stride):
        batch.append((index, t, frame))
        if len(batch) == 16:
            flush()
    if batch:
        flush()
    if not records:
        raise MediaError("no frame could be read")
    return records


def _events(alerts: list[dict]) -> list[dict]:
    """Consecutive alerts of one category in one video merged into one event (start, end)."""
    events: list[dict] = []
    for a in alerts:
        last = events[-1] if events else None
        if (
            last
            and a["time"] is not None
            and last["file"] == a["file"]
            and last["category"] == a["category"]
            and a["frame"] - last["last_frame"] <= 5
        ):
            last.update(end=a["time"], last_frame=a["frame"])
            last["confidence"] = max(last["confidence"], a["confidence"])
        else:
            events.append(
                {
                    "file": a["file"],
                    "category": a["category"],
                    "start": a["time"],
                    "end": a["time"],
                    "last_frame": a["frame"],
                    "confidence": a["confidence"],
                }
            )
    return events


def _write_csv(path: Path, alerts: list[dict]) -> None:
    rows = (
        [a["file"], a["frame"], seconds(a["time"]), a["category"], f"{a['confidence']:.4f}"]
        for a in alerts
    )
    write_csv(path, ["file", "frame", "time_s", "missing_sign", "confidence"], rows)


def seconds(t: float | None) -> str:
    """A frame's time for CSV: ``""`` for a still image."""
    return "" if t is None else f"{t:.3f}"


def _plot_alerts(alerts: list[dict], path: Path) -> None:
    from app_toolkit.plots import pyplot

    plt = pyplot()

    counts = [sum(a["category"] == c for a in alerts) for c in CONTEXT_CATEGORIES]
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.bar([c.replace("_", " ") for c in CONTEXT_CATEGORIES], counts, color="tab:red")
    ax.set_ylabel("frames with alert")
    ax.set_title(f"missing-sign alerts: {len(alerts)} frames")
    atomic_write(path, lambda p: fig.savefig(p, dpi=100, bbox_inches="tight", format="png"))
    plt.close(fig)


def _alert_row(a: dict) -> str:
    when = "" if a["time"] is None else f"{a['time']:.2f} s"
    image = f'<img src="{html.escape(a["image"])}" width="240">' if "image" in a else ""
    return (
        f"<tr><td>{html.escape(a['file'])}</td><td>{a['frame']}</td><td>{when}</td>"
        f"<td>{html.escape(a['category'])}</td><td>{a['confidence']:.2f}</td><td>{image}</td></tr>"
    )


def _write_html(path: Path, report: dict) -> None:
    rows = "".join(_alert_row(a) for a in report["alerts"])
    skipped = "".join(f"<li>{html.escape(s)}</li>" for s in report["skipped"]) or "<li>none</li>"
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Sign audit</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto}}td{{padding:2px 8px}}</style>
</head><body><h1>Sign audit</h1>
<p>{report["frames"]} frames from {len(report["files"])} files, {len(report["alerts"])} frames with a
missing-sign alert ({len(report["events"])} events), {report["frames_per_second"]:.1f} frames/s.</p>
<img src="alerts.png" alt="alerts per category">
<table><tr><th>file</th><th>frame</th><th>time</th><th>missing sign</th><th>confidence</th><th></th></tr>
{rows}</table><h2>Skipped files</h2><ul>{skipped}</ul></body></html>
"""
    atomic_write(path, lambda p: Path(p).write_text(page))
