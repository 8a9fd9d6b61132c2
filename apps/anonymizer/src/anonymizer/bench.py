"""Throughput of the whole job on full-HD frames: decode, each detector, replacement, encode."""

from __future__ import annotations

import io
import statistics
import time

import numpy as np
from PIL import Image

from anonymizer.pipeline import Anonymizer, AnonymizerConfig
from anonymizer.synth import street_scene
from app_toolkit.devices import environment, resolve_device

__all__ = ["bench", "format_bench"]


def bench(
    config: AnonymizerConfig | None = None,
    *,
    frames: int = 5,
    warmup: int = 1,
    size: tuple[int, int] = (1920, 1080),
    seed: int = 0,
) -> dict:
    """Median milliseconds per frame of every stage over ``frames`` synthetic street scenes of
    ``size`` (JPEG in and out, as in a dataset), and images per second for the whole job."""
    if frames < 1 or warmup < 0:
        raise ValueError(f"frames must be >= 1 and warmup >= 0, got {frames} and {warmup}")
    config = config or AnonymizerConfig()
    anon = Anonymizer.from_config(config)
    jpegs = []
    for i in range(frames):
        buf = io.BytesIO()
        Image.fromarray(street_scene(seed + i, size)[0]).save(buf, "JPEG", quality=95)
        jpegs.append(buf.getvalue())
    times: dict[str, list[float]] = {}

    def timed(stage: str, fn, *args):
        start = time.perf_counter()
        result = fn(*args)
        times.setdefault(stage, []).append(1000 * (time.perf_counter() - start))
        return result

    counts = []
    for i in range(warmup + frames):
        if i == warmup:
            times.clear()
        data = jpegs[i % frames]
        rgb = timed("decode", lambda d: np.asarray(Image.open(io.BytesIO(d)).convert("RGB")), data)
        detections = []
        for detector in anon.detectors:
            detections += timed(f"detect {detector.label}s ({detector.name})", detector.detect, rgb)
        boxes = timed("postprocess", anon.postprocess, rgb.shape, detections)
        out = timed(f"replace ({config.method})", anon.replace, rgb, boxes)
        timed("encode", lambda o: Image.fromarray(o).save(io.BytesIO(), "JPEG", quality=95), out)
        counts.append(len(boxes))
    stages = {k: statistics.median(v) for k, v in times.items()}
    totals = [sum(v[i] for v in times.values()) for i in range(frames)]
    total = statistics.median(totals)
    return {
        "size": list(size),
        "frames": frames,
        "method": config.method,
        "boxes_per_frame": statistics.mean(counts),
        "stages_ms": stages,
        "total_ms": total,
        "images_per_second": 1000 / total,
        "environment": environment(resolve_device(config.detection.device)),
    }


def format_bench(result: dict) -> str:
    width, height = result["size"]
    lines = [
        f"{width}×{height}, {result['frames']} frames, {result['boxes_per_frame']:.1f} boxes per "
        f"frame, device {result['environment']['device']}",
        f"{'stage':<28} {'median ms':>10}",
    ]
    lines += [f"{stage:<28} {ms:>10.1f}" for stage, ms in result["stages_ms"].items()]
    lines.append(f"{'total':<28} {result['total_ms']:>10.1f}")
    lines.append(f"images per second: {result['images_per_second']:.2f}")
    return "\n".join(lines)
