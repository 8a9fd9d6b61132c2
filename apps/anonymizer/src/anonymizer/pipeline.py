"""Detect and replace faces and plates in one frame (:class:`Anonymizer`), in files and in whole
datasets (:func:`anonymize_files`), and re-render from edited review files (:func:`apply_reviews`)."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections import defaultdict
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, replace
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from anonymizer.config import METHODS, REPORT_DIR, AnonymizerConfig
from anonymizer.detections import Detection, adjust_box, grow_points, merge_frames
from anonymizer.detectors import Detector, build_detectors, resolve_detection_device
from anonymizer.replace import Replacer, build_replacer
from anonymizer.review import draw_boxes, read_review, write_review
from app_toolkit.files import check_output_dir, write_json
from app_toolkit.manifest import RunManifest, file_digest
from app_toolkit.media import (
    MediaError,
    MediaFile,
    discover,
    iter_frames,
    read_image,
    video_info,
    write_image,
    write_video,
)

__all__ = [
    "REPORT_DIR",
    "Anonymizer",
    "AnonymizerConfig",
    "anonymize_files",
    "anonymize_image",
    "apply_reviews",
]


log = logging.getLogger(__name__)


class Anonymizer:
    """Finds faces and plates in an RGB frame and replaces them.

    ``anonymizer(rgb) -> (anonymized, detections)``. Per-stage wall times accumulate in
    ``timings`` (seconds, by stage) for benchmarks.
    """

    def __init__(
        self,
        detectors: list[Detector],
        replacer: Replacer,
        method: str,
        config: AnonymizerConfig | None = None,
    ):
        self.detectors, self.config = detectors, config or AnonymizerConfig(method=method)
        self.method = method
        self._replacers: dict[str, Replacer] = {method: replacer}
        self.timings: dict[str, float] = defaultdict(float)

    @classmethod
    def from_config(cls, config: AnonymizerConfig, detect: bool = True) -> Anonymizer:
        """Load the detectors (unless ``detect`` is false) and the replacement method."""
        device = resolve_detection_device(config.detection, config.method == "sd-inpaint")
        config = replace(config, detection=replace(config.detection, device=device))
        detectors = build_detectors(config.detection) if detect else []
        return cls(detectors, _build_replacer(config, config.method), config.method, config)

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        """Boxes to replace: every detector's, after :meth:`postprocess`."""
        raw = []
        for detector in self.detectors:
            start = time.perf_counter()
            raw += detector.detect(rgb)
            self.timings[f"detect {detector.label}s ({detector.name})"] += (
                time.perf_counter() - start
            )
        return self.postprocess(rgb.shape, raw)

    def postprocess(self, shape: tuple[int, ...], raw: list[Detection]) -> list[Detection]:
        """Drop boxes smaller than ``min_size``, grow or shrink the rest by class, clip them to
        the frame and mark them with the replacement method."""
        height, width = shape[:2]
        found = []
        for det in raw:
            if min(det.width, det.height) < self.config.detection.min_size:
                continue
            grow = self.config.face_grow if det.label == "face" else self.config.plate_grow
            box = adjust_box(det.box, grow, width, height)
            points = grow_points(det.points, grow) if det.points else None
            if box is not None:
                found.append(Detection(box, det.label, det.score, det.source, self.method, points))
        return found

    def _replacer(self, method: str) -> Replacer:
        if method not in self._replacers:
            self._replacers[method] = _build_replacer(self.config, method)
        return self._replacers[method]

    def replace(self, rgb: np.ndarray, detections: list[Detection]) -> np.ndarray:
        """Replace each box with its own method (review files may mix them) or the default."""
        start = time.perf_counter()
        out = rgb
        by_method: dict[str, list[Detection]] = defaultdict(list)
        for det in detections:
            by_method[det.method or self.method].append(det)
        for method, dets in by_method.items():
            out = self._replacer(method)(out, dets)
        self.timings["replace"] += time.perf_counter() - start
        return out.copy() if out is rgb else out

    def __call__(self, rgb: np.ndarray) -> tuple[np.ndarray, list[Detection]]:
        detections = self.detect(rgb)
        return self.replace(rgb, detections), detections


def _build_replacer(config: AnonymizerConfig, method: str) -> Replacer:
    if method == "sd-inpaint":
        options = {"device": config.detection.device, **config.sd_options}
        return build_replacer(method, config.sd_model, **options)
    return build_replacer(method)


def anonymize_image(
    rgb: np.ndarray, config: AnonymizerConfig | None = None
) -> tuple[np.ndarray, list[Detection]]:
    """One-call API: anonymize an RGB ``uint8 [H, W, 3]`` image with ``config`` (default: MTCNN
    faces, cascade plates, OpenCV inpainting). Returns the new image and what was replaced."""
    config = config or AnonymizerConfig()
    return Anonymizer.from_config(config)(rgb)


# --------------------------------------------------------------------------------------------
# Files and datasets


def output_paths(item: MediaFile, out_dir: Path) -> tuple[Path, Path, Path]:
    """Output file, review file and preview image of one input."""
    reports = out_dir / REPORT_DIR
    rel = item.rel.as_posix()
    return (
        out_dir / item.rel,
        reports / "reviews" / f"{rel}.json",
        reports / "previews" / f"{rel}.jpg",
    )


def _process_image(
    anon: Anonymizer, item: MediaFile, out_dir: Path, preview: bool, io: BackgroundIO | None
) -> dict:
    rgb, mode = io.image(item) if io else read_image(item.path)
    result, detections = anon(rgb)
    output, review, preview_path = output_paths(item, out_dir)

    def write() -> None:
        write_review(
            review,
            input=item.path,
            output=output,
            kind="image",
            size=(rgb.shape[1], rgb.shape[0]),
            method=anon.method,
            detections=detections,
        )
        if preview:
            write_image(preview_path, draw_boxes(result, detections))
        write_image(output, result, mode)  # last: an existing output means the file is done

    io.write(item, write) if io else write()
    return {"detections": _count(detections)}


class BackgroundIO:
    """Reads the next images and writes finished ones in threads while the detectors run on the
    current one (OpenCV and Pillow release the GIL while they decode and encode).

    ``prefetch(i)`` starts reading items ``i .. i + ahead``; ``image(item)`` waits for one;
    ``write(item, fn)`` queues its outputs (``written(item)`` is called once they are on disk);
    ``close()`` waits for every write and returns the reason of each that failed, by input
    path. Writes run one at a time, in order."""

    def __init__(self, items: list[MediaFile], wanted, ahead: int = 2, written=None):
        self.items, self.wanted, self.ahead = items, wanted, ahead
        self.written = written
        self._reader, self._writer = ThreadPoolExecutor(1), ThreadPoolExecutor(1)
        self._reads: dict[Path, Future] = {}
        self._writes: list[tuple[Path, Future]] = []
        self._next = 0

    def prefetch(self, index: int) -> None:
        self._next = max(self._next, index)
        while self._next < min(len(self.items), index + self.ahead + 1):
            item = self.items[self._next]
            if item.kind == "image" and self.wanted(item):
                self._reads[item.path] = self._reader.submit(read_image, item.path)
            self._next += 1

    def image(self, item: MediaFile):
        future = self._reads.pop(item.path, None)
        return future.result() if future else read_image(item.path)

    def write(self, item: MediaFile, fn) -> None:
        def write_then_note():
            fn()
            if self.written is not None:
                self.written(item)

        self._writes.append((item.path, self._writer.submit(write_then_note)))

    def close(self) -> dict[Path, str]:
        failed = {}
        for path, future in self._writes:
            err = future.exception()
            if err is not None:
                log.debug("writing the outputs of %s failed", path, exc_info=err)
                failed[path] = (
                    str(err) if isinstance(err, MediaError) else f"{type(err).__name__}: {err}"
                )
        self._reader.shutdown(cancel_futures=True)
        self._writer.shutdown()
        return failed


def _process_video(
    anon: Anonymizer, item: MediaFile, out_dir: Path, preview: bool, progress: bool = True
) -> dict:
    info = video_info(item.path)
    per_frame = []
    bar = tqdm(
        total=info.frames or None,
        desc=item.rel.name,
        unit="frame",
        leave=False,
        disable=not progress,
    )
    with bar:
        for _, frame in iter_frames(item.path):
            per_frame.append(anon.detect(frame))
            bar.update()
    frames = merge_frames(per_frame, anon.config.persist)
    output, review, _ = output_paths(item, out_dir)
    write_review(
        review,
        input=item.path,
        output=output,
        kind="video",
        size=(info.width, info.height),
        method=anon.method,
        frames=frames,
        fps=info.fps,
        persist=anon.config.persist,
        detected_per_frame=[_count(f) for f in per_frame],
    )
    # The frame count is checked before the output appears: an unprocessed frame never leaks.
    written = write_video(output, _render_frames(anon, item.path, frames), info, len(frames))
    return {"detections": _count([d for f in per_frame for d in f]), "frames": written}


def _render_frames(anon: Anonymizer, path: Path, frames: list[list[Detection]]):
    for index, frame in iter_frames(path):
        yield anon.replace(frame, frames[index]) if index < len(frames) else frame


def _count(detections: list[Detection]) -> dict[str, int]:
    counts = {"face": 0, "plate": 0}
    for det in detections:
        counts[det.label] += 1
    return counts


def process_file(
    anon: Anonymizer,
    item: MediaFile,
    out_dir: Path,
    preview: bool,
    overwrite: bool,
    progress: bool = True,
    io: BackgroundIO | None = None,
) -> dict:
    """Anonymize one input file into ``out_dir``; returns its report entry (never raises for a bad
    file: the entry says ``failed`` and why). ``overwrite`` false: the output is already done
    (made by these settings from these input bytes) and is kept. With ``io``, an image is read
    ahead and its outputs written in the background: a failed write is reported by
    ``io.close()``."""
    output = output_paths(item, out_dir)[0]
    entry = {"input": str(item.path), "output": str(output), "kind": item.kind}
    if item.kind == "other":
        return {**entry, "status": "skipped", "reason": "not an image or video"}
    if not overwrite:
        return {**entry, "status": "exists"}
    start = time.perf_counter()
    try:
        if item.kind == "video":
            entry.update(_process_video(anon, item, out_dir, preview, progress))
        else:
            entry.update(_process_image(anon, item, out_dir, preview, io))
    except MediaError as err:
        return {**entry, "status": "failed", "reason": str(err)}
    except Exception as err:  # one odd file must not stop a dataset-sized job; it is listed
        log.debug("failed on %s", item.path, exc_info=True)
        return {**entry, "status": "failed", "reason": f"{type(err).__name__}: {err}"}
    return {**entry, "status": "done", "seconds": round(time.perf_counter() - start, 3)}


_WORKER: Anonymizer | None = None


def _init_worker(config: AnonymizerConfig, threads: int) -> None:
    global _WORKER
    os.environ["OMP_NUM_THREADS"] = str(threads)  # torch, if a model needs it, reads this
    _WORKER = Anonymizer.from_config(config)


def _work(item: MediaFile, out_dir: Path, preview: bool, overwrite: bool) -> dict:
    return process_file(_WORKER, item, out_dir, preview, overwrite, progress=False)


def run_settings(config: AnonymizerConfig) -> dict:
    """What decides the outputs of a run: the configuration (the device apart) and the bytes of
    any detector weights files."""
    settings = asdict(config)
    settings["detection"].pop("device", None)
    for name in ("face_weights", "plate_weights"):
        path = getattr(config.detection, name)
        if path:
            settings[f"{name}_sha256"] = file_digest(path)
    return settings


def anonymize_files(
    inputs: list[str],
    out_dir: str | os.PathLike,
    config: AnonymizerConfig | None = None,
    *,
    preview: bool = False,
    overwrite: bool = False,
    workers: int = 1,
    progress: bool = True,
) -> dict:
    """Anonymize images, folders (recursively, structure mirrored), globs and videos into
    ``out_dir``. Inputs are never modified; finished outputs are skipped unless ``overwrite``; bad
    files are skipped and listed. Under ``accelerate launch`` each process takes its own share of
    the files. Returns the report, also written to ``out_dir/_anonymize/report*.json``."""
    config = config or AnonymizerConfig()
    out_dir = Path(out_dir)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    check_output_dir(out_dir, inputs)
    items = discover(inputs, skip=(REPORT_DIR,))
    # A folder of another run (other detectors, thresholds or method) is refused unless
    # overwrite: its outputs would otherwise be skipped as done.
    single = int(os.environ.get("WORLD_SIZE", "1")) <= 1  # else another process may be writing
    manifest = RunManifest(out_dir, run_settings(config), overwrite=overwrite, sweep=single)
    state = process_state(config)
    if state.num_processes > 1 and config.detection.device == "auto":
        # One GPU per process under `accelerate launch`.
        config = replace(config, detection=replace(config.detection, device=str(state.device)))
    if state.is_main_process:
        manifest.save()
    start = time.perf_counter()
    with state.split_between_processes(items) as mine:
        # Done: made by these settings from the input's present bytes (a replaced photo is redone).
        digests = {item.path: _digest(item.path) for item in mine if item.kind != "other"}
        todo = {
            item.path
            for item in mine
            if overwrite
            or item.kind == "other"
            or not digests[item.path]
            or not manifest.done(output_paths(item, out_dir)[0], item.path, digests[item.path])
        }

        # One process records each output as it lands, so a killed run resumes where it was.
        def note(item: MediaFile) -> None:
            if digests.get(item.path):
                manifest.record(output_paths(item, out_dir)[0], item.path, digests[item.path])

        try:
            entries = _run_items(
                mine, todo, note if state.num_processes == 1 else None, out_dir, config, preview,
                workers, progress and state.is_local_main_process,
            )  # fmt: skip
        finally:  # an interrupted run keeps the record of what it finished
            if state.num_processes == 1:
                manifest.save()
        for entry in entries:
            entry["sha256"] = digests.get(Path(entry["input"]))
    if state.num_processes > 1:
        from accelerate.utils import gather_object

        entries = gather_object(entries)
    report = _summarise(entries, config, time.perf_counter() - start, state.num_processes)
    if state.is_main_process:
        for entry in entries:
            if entry["status"] == "done" and entry["sha256"]:
                manifest.record(entry["output"], entry["input"], entry["sha256"])
        manifest.save()
        write_json(out_dir / REPORT_DIR / "report.json", report)
    return report


def _digest(path: Path) -> str | None:
    """The input's SHA-256, or None when it cannot be read (then it is processed, and fails
    alone with the reason, like any unreadable file)."""
    try:
        return file_digest(path)
    except OSError:
        return None


class _OneProcess:
    """The part of accelerate's ``PartialState`` a run uses, for a plain single-process run (so
    that torch is not imported where no model needs it)."""

    num_processes = 1
    is_main_process = is_local_main_process = True

    def __init__(self, device: str):
        self.device = device

    @contextlib.contextmanager
    def split_between_processes(self, items):
        yield items

    def destroy_process_group(self) -> None:
        pass


def process_state(config: AnonymizerConfig | None = None):
    """accelerate's ``PartialState`` under ``accelerate launch`` or ``torchrun`` (several
    processes share the files), else a single-process stand-in."""
    config = config or AnonymizerConfig()
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return _OneProcess(
            resolve_detection_device(config.detection, config.method == "sd-inpaint")
        )
    from accelerate import PartialState

    from app_toolkit.devices import resolve_device

    # On CPU, accelerate only forms a process group (gloo) when asked for CPU explicitly.
    return PartialState(cpu=resolve_device(config.detection.device).type == "cpu")


def _run_items(items, todo, note, out_dir, config, preview, workers, progress) -> list[dict]:
    """Process ``items`` (those in ``todo``; the rest are done); ``note(item)``, when given, is
    called as each output is finished on disk."""
    entries = []
    if workers == 1:
        anon = Anonymizer.from_config(config)
        bar = tqdm(total=len(items), unit="file", desc="anonymize", disable=not progress)
        io = BackgroundIO(items, lambda it: it.path in todo, written=note)
        try:
            for index, item in enumerate(items):
                io.prefetch(index)
                entry = process_file(anon, item, out_dir, preview, item.path in todo, progress, io)
                if note is not None and entry["status"] == "done" and item.kind == "video":
                    note(item)  # videos are written here, not through io
                entries.append(entry)
                bar.update()
        finally:
            failed = io.close()
        for entry in entries:
            if Path(entry["input"]) in failed:
                entry.update(status="failed", reason=failed[Path(entry["input"])])
                entry.pop("seconds", None)
    else:
        bar = tqdm(total=len(items), unit="file", desc="anonymize", disable=not progress)
        threads = max(1, (os.cpu_count() or 1) // workers)
        with ProcessPoolExecutor(
            workers, get_context("spawn"), initializer=_init_worker, initargs=(config, threads)
        ) as pool:
            futures = [
                pool.submit(_work, item, out_dir, preview, item.path in todo) for item in items
            ]
            for item, future in zip(items, futures):
                entries.append(future.result())
                if note is not None and entries[-1]["status"] == "done":
                    note(item)
                bar.update()
    bar.close()
    return entries


def _summarise(entries: list[dict], config: AnonymizerConfig, seconds: float, processes: int):
    status = defaultdict(int)
    totals = {"face": 0, "plate": 0}
    for entry in entries:
        status[entry["status"]] += 1
        for label, n in entry.get("detections", {}).items():
            totals[label] += n
    return {
        "config": asdict(config),
        "processes": processes,
        "seconds": round(seconds, 2),
        "files": len(entries),
        "status": dict(status),
        "detections": totals,
        "problems": [
            {"input": e["input"], "reason": e["reason"]}
            for e in entries
            if e["status"] in ("failed", "skipped")
        ],
        "entries": entries,
    }


def apply_reviews(
    review_files: list[str | os.PathLike],
    config: AnonymizerConfig | None = None,
    *,
    method: str | None = None,
    preview: bool = False,
    progress: bool = True,
) -> list[dict]:
    """Re-render outputs from (edited) review files and the original inputs: exactly the boxes
    listed are replaced, each with its own ``method`` (or ``method`` here, overriding all)."""
    config = config or AnonymizerConfig()
    if method is not None and method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    # Every review is read and checked before any output is rewritten.
    reviews = []
    for path in review_files:
        review = read_review(path)
        source, output = Path(review["input"]), Path(review["output"])
        if source.resolve() == output.resolve():
            raise ValueError(f"{path}: output equals input {source}; inputs are never overwritten")
        if not source.is_file():
            raise ValueError(f"{path}: its input {source} is missing")
        reviews.append((path, _override_method(review, method) if method else review))
    anon = Anonymizer.from_config(config, detect=False)
    results = []
    for path, review in tqdm(reviews, unit="file", desc="apply-review", disable=not progress):
        source, output = Path(review["input"]), Path(review["output"])
        anon.method = method or review["method"]
        try:
            if review["kind"] == "video":
                info = video_info(source)
                _check_size(path, source, (info.width, info.height), review["size"])
                frames = review.frames
                write_video(output, _render_frames(anon, source, frames), info, len(frames))
                count = sum(len(f) for f in frames)
            else:
                rgb, mode = read_image(source)
                _check_size(path, source, (rgb.shape[1], rgb.shape[0]), review["size"])
                result = anon.replace(rgb, review.detections)
                if preview:
                    write_image(_preview_for(Path(path)), draw_boxes(result, review.detections))
                write_image(output, result, mode)
                count = len(review.detections)
        except MediaError as err:
            raise ValueError(f"{path}: input {source}: {err}") from None
        results.append({"review": str(path), "output": str(output), "boxes": count})
    return results


def _check_size(review, source, actual: tuple[int, int], expected: list[int]) -> None:
    if list(actual) != list(expected):
        raise ValueError(
            f"{review}: {source} is {actual[0]}×{actual[1]}, the review says "
            f"{expected[0]}×{expected[1]}"
        )


def _preview_for(review: Path) -> Path:
    """The preview beside a review: ``.../reviews/a/b.jpg.json`` -> ``.../previews/a/b.jpg.jpg``."""
    parts = list(review.parts)
    if "reviews" in parts:
        i = len(parts) - 1 - parts[::-1].index("reviews")
        parts[i] = "previews"
        return Path(*parts).with_suffix(".jpg")
    return review.with_suffix(".preview.jpg")


def _override_method(review, method: str):
    def reset(dets):
        return [replace(d, method=method) for d in dets]

    if review["kind"] == "video":
        review["frames"] = [reset(f) for f in review.frames]
    else:
        review["detections"] = reset(review.detections)
    return review
