"""Finding, reading and writing images and videos; inputs are only ever read, outputs written
atomically (a temporary file renamed into place), so an interrupted run leaves no partial output.

Needs the ``media`` extra (Pillow, OpenCV)."""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from app_toolkit.files import _glob_base, atomic_write

__all__ = [
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "MediaError",
    "MediaFile",
    "VideoInfo",
    "discover",
    "iter_frames",
    "read_image",
    "video_info",
    "write_image",
    "write_video",
]

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
VIDEO_EXTENSIONS = {".mp4", ".m4v", ".mov", ".avi", ".mkv"}
# OpenCV picks the container from the extension; these codecs ship in the opencv-python wheels.
FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".mkv": "mp4v", ".avi": "MJPG"}
PIL_FORMATS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".webp": "WEBP",
}
GRAY_MODES = {"1", "L", "LA"}


class MediaError(ValueError):
    """A file that is not a readable image or video."""


@dataclass(frozen=True)
class MediaFile:
    """An input file and where its outputs go, relative to the output folder."""

    path: Path
    rel: Path

    @property
    def kind(self) -> str:
        suffix = self.path.suffix.lower()
        if suffix in IMAGE_EXTENSIONS:
            return "image"
        if suffix in VIDEO_EXTENSIONS:
            return "video"
        return "other"


def _walk(folder: Path, exclude: list[Path], skip: tuple[str, ...]) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        root_path = Path(root)
        # Hidden entries (temporary files of an interrupted run among them) are not data.
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and d not in skip and (root_path / d).resolve() not in exclude
        )
        for name in sorted(files):
            if not name.startswith("."):
                yield root_path / name


def _skipped(path: Path, base: Path, exclude: list[Path], skip: tuple[str, ...]) -> bool:
    """Hidden entries and ``skip`` folders below ``base``, and excluded folders, are not inputs."""
    if any(p.startswith(".") or p in skip for p in path.relative_to(base).parts):
        return True
    resolved = path.resolve()
    return any(resolved.is_relative_to(folder) for folder in exclude)


def discover(
    inputs: list[str], exclude: list[Path] = (), skip: tuple[str, ...] = ()
) -> list[MediaFile]:
    """Expand files, folders (recursively) and globs into media files with their relative output
    paths: a folder's structure is mirrored, a file or glob match is placed by its name (or its path
    below the glob's fixed part). Files that are not images or videos are returned too, with kind
    ``other``, so the caller can report them. Hidden entries, folders named in ``skip`` (a tool's
    report folders) and folders listed in ``exclude`` are not entered."""
    exclude = [Path(p).resolve() for p in exclude]
    found: list[MediaFile] = []
    for spec in inputs:
        path = Path(spec)
        if path.is_dir():
            found += [MediaFile(p, p.relative_to(path)) for p in _walk(path, exclude, skip)]
        elif path.is_file():
            found.append(MediaFile(path, Path(path.name)))
        elif glob.has_magic(spec):
            base = _glob_base(spec)
            matches = sorted(Path(m) for m in glob.glob(spec, recursive=True))
            files = [m for m in matches if m.is_file() and not _skipped(m, base, exclude, skip)]
            if not files:
                raise ValueError(f"input {spec!r}: the pattern matches no file")
            found += [MediaFile(m, m.relative_to(base)) for m in files]
        else:
            raise ValueError(f"input {spec!r}: no such file or folder")
    # Outputs are named from the input's relative path; tools change the extension (x.jpg →
    # x.png), so x.jpg and x.png beside each other would share one output.
    seen: dict[Path, Path] = {}
    for item in found:
        if item.kind == "other":
            continue
        other = seen.setdefault(item.rel.with_suffix(""), item.path)
        if other != item.path:
            raise ValueError(
                f"inputs {other} and {item.path} would share the output name "
                f"{item.rel.with_suffix('')}.*; rename one, or run them separately"
            )
    if not any(item.kind != "other" for item in found):
        raise ValueError(f"no images or videos found in {', '.join(inputs)}")
    return found


def read_image(path: str | os.PathLike) -> tuple[np.ndarray, str]:
    """RGB ``uint8 [H, W, 3]`` and the file's PIL mode; EXIF orientation applied, as viewers do."""
    try:
        with Image.open(path) as img:
            img.load()  # truncated and corrupt files fail here, not later
            mode = img.mode
            if mode in ("I", "I;16", "I;16B", "I;16L", "F"):
                raise MediaError(
                    f"{mode} images (16-bit or float) are not supported; convert to 8-bit"
                )
            img = ImageOps.exif_transpose(img)
            rgb = np.asarray(img.convert("RGB"))
    except Image.DecompressionBombError as err:
        raise MediaError(f"too large to read safely ({err})") from None
    except MediaError:
        raise
    # ImportError: ultralytics, when imported, patches Image.open to load an optional HEIF
    # plugin on unidentified files and raises ImportError when that plugin is absent.
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, ImportError) as err:
        if isinstance(err, ImportError):
            err = "unidentified format"
        raise MediaError(f"not a readable image ({err})") from None
    return np.ascontiguousarray(rgb), mode


def read_images(inputs: list[str], min_side: int = 1) -> dict[str, np.ndarray]:
    """Every image in ``inputs`` (files, folders, globs; see :func:`discover`) as RGB, keyed by
    its relative path without suffix; unreadable files and images with a side shorter than
    ``min_side`` pixels are logged by name and left out."""
    import logging

    images = {}
    for item in discover([str(i) for i in inputs]):
        if item.kind != "image":
            continue
        try:
            image = read_image(item.path)[0]
        except MediaError as err:
            logging.getLogger(__name__).warning("skipped %s: %s", item.path, err)
            continue
        if min(image.shape[:2]) < min_side:
            logging.getLogger(__name__).warning(
                "skipped %s: %d×%d pixels, at least %d needed on each side",
                item.path, image.shape[1], image.shape[0], min_side,
            )  # fmt: skip
            continue
        images[str(item.rel.with_suffix(""))] = image
    return images


def write_image(path: str | os.PathLike, rgb: np.ndarray, mode: str = "RGB") -> Path:
    """Write atomically in the format the extension names; grayscale inputs stay grayscale, an
    alpha channel is dropped. No metadata (EXIF, GPS) is carried over from the input."""
    path = Path(path)
    fmt = PIL_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise MediaError(f"{path}: cannot write images with extension {path.suffix!r}")
    img = Image.fromarray(rgb)
    if mode in GRAY_MODES:
        img = img.convert("L")
    options = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    return atomic_write(
        path, lambda tmp: img.save(tmp, format=fmt, **options), check=partial(_check_complete, fmt)
    )


# How each format's files end when they are whole; a short write (disk full: Pillow's JPEG
# encoder does not notice) leaves a file without its end marker.
_END_MARKERS = {"JPEG": b"\xff\xd9", "PNG": b"IEND\xaeB`\x82"}


def _check_complete(fmt: str, path: str) -> None:
    """Raise ``OSError`` if the image just written to ``path`` is empty or lacks its end marker,
    so that a truncated file is never renamed into place as finished."""
    size = os.path.getsize(path)
    marker = _END_MARKERS.get(fmt, b"")
    with open(path, "rb") as f:
        f.seek(max(0, size - 64))
        tail = f.read()
    if size == 0 or (marker and marker not in tail):
        raise OSError(f"the {fmt} file was not written completely ({size} bytes; disk full?)")


@dataclass(frozen=True)
class VideoInfo:
    fps: float
    width: int
    height: int
    frames: int  # as the container states it; counted frames may differ slightly


def _read_info(path: str | os.PathLike) -> VideoInfo:
    cap = cv2.VideoCapture(str(path))
    try:
        ok, _ = cap.read()
        if not cap.isOpened() or not ok:
            raise MediaError("not a readable video")
        return VideoInfo(
            fps=cap.get(cv2.CAP_PROP_FPS) or 25.0,
            width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            frames=int(cap.get(cv2.CAP_PROP_FRAME_COUNT)),
        )
    finally:
        cap.release()


def _probe(path: str) -> None:
    """Child-process side of :func:`video_info`: read the header, walk every frame, print JSON
    (with the number of frames that decode)."""
    info = _read_info(path)
    cap = cv2.VideoCapture(path)
    decoded = 0
    try:
        while cap.grab():
            decoded += 1
    finally:
        cap.release()
    print(json.dumps({**dataclasses.asdict(info), "decoded": decoded}))


def _missing_frames(stated: int, decoded: int) -> bool:
    """Whether fewer frames decode than the header states, beyond what containers miscount (the
    header's count is an estimate from duration × fps in some, variable frame rates move it):
    more than 10% (and two frames) missing means the file was cut short or is damaged."""
    return stated > 0 and stated - decoded > max(2, stated // 10)


def video_info(path: str | os.PathLike, timeout: float = 600.0) -> VideoInfo:
    """Container facts of a video, found by a child process that also walks every frame: a file
    that crashes the decoder (OpenCV's bundled FFmpeg can abort the process on malformed
    containers) costs a :class:`MediaError` for that file, not the batch."""
    code = "import sys; from app_toolkit.media import _probe; _probe(sys.argv[1])"
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise MediaError(f"decoding took over {timeout:.0f} s; not processed") from None
    if done.returncode < 0:
        raise MediaError(f"the video decoder crashed on this file (signal {-done.returncode})")
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["unknown error"]
        reason = lines[-1].split(": ", 1)[-1] if "MediaError" in lines[-1] else lines[-1]
        if done.returncode in (134, 139):  # abort() / segfault reported through a shell
            reason = "the video decoder crashed on this file"
        raise MediaError(reason)
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    decoded = facts.pop("decoded")
    if _missing_frames(facts["frames"], decoded):
        raise MediaError(
            f"truncated or damaged: the header states {facts['frames']} frames, {decoded} decode"
        )
    return VideoInfo(**facts)


def iter_frames(path: str | os.PathLike, stride: int = 1) -> Iterator[tuple[int, np.ndarray]]:
    """``(index, RGB frame)`` for every ``stride``-th frame."""
    cap = cv2.VideoCapture(str(path))
    try:
        index = 0
        while True:
            ok = cap.grab()
            if not ok:
                return
            if index % stride == 0:
                ok, bgr = cap.retrieve()
                if not ok:
                    return
                yield index, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            index += 1
    finally:
        cap.release()


def write_video(
    path: str | os.PathLike,
    frames: Iterator[np.ndarray],
    info: VideoInfo,
    expected: int | None = None,
) -> int:
    """Write RGB frames atomically at ``info``'s fps and size; returns the number written. With
    ``expected``, a different number of frames raises and leaves no output."""
    path = Path(path)
    fourcc = FOURCC.get(path.suffix.lower())
    if fourcc is None:
        raise MediaError(f"{path}: cannot write videos with extension {path.suffix!r}")
    count = 0

    def write(tmp: str) -> None:
        nonlocal count
        writer = cv2.VideoWriter(
            tmp, cv2.VideoWriter_fourcc(*fourcc), info.fps, (info.width, info.height)
        )
        if not writer.isOpened():
            raise MediaError(f"{path}: OpenCV cannot write {fourcc} video here")
        try:
            for frame in frames:
                if frame.shape[:2] != (info.height, info.width):
                    raise MediaError(
                        f"frame {count} is {frame.shape[1]}×{frame.shape[0]}, the video "
                        f"{info.width}×{info.height}"
                    )
                writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
                count += 1
        finally:
            writer.release()
        if expected is not None and count != expected:
            raise MediaError(f"expected {expected} frames, got {count}")
        written = _read_info(tmp)
        if (written.width, written.height) != (info.width, info.height):
            raise MediaError(
                f"the {fourcc} codec wrote {written.width}×{written.height} frames instead of "
                f"{info.width}×{info.height} (odd sizes are not kept); use .avi for this video"
            )

    atomic_write(path, write, suffix=path.suffix)
    return count
