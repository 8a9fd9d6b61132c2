"""What the reliability tests of every command share: one table of bad input files, a weights
file that runs code when unpickled, and the checks every failure must pass (exit code, a single
line on stderr, no traceback, inputs untouched).

Test helpers, shipped so that each package's tests use the same table; needs the ``media`` extra.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = [
    "BAD_FILES",
    "PayloadPickle",
    "UNREADABLE",
    "assert_one_line_error",
    "fingerprint",
    "assert_refused_at_parse",
    "run_cli",
    "write_bad_files",
    "write_image_file",
    "write_payload_pt",
]


def write_image_file(path: Path, size: tuple[int, int] = (48, 64), seed: int = 0) -> Path:
    """A small smooth RGB picture (``size`` = height, width) in the format ``path`` names."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    h, w = size
    base = rng.integers(0, 256, (max(h // 8, 1), max(w // 8, 1), 3), dtype=np.uint8)
    image = np.kron(base, np.ones((8, 8, 1), np.uint8))[:h, :w]
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(image)).save(path)
    return path


def _png_header(width: int, height: int) -> bytes:
    """A PNG signature and IHDR chunk claiming ``width`` × ``height``, then nothing."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
    )


def _truncated(path: Path) -> Path:
    write_image_file(path.with_suffix(".png"))
    data = path.with_suffix(".png").read_bytes()
    path.with_suffix(".png").unlink()
    path.write_bytes(data[: len(data) // 2])
    return path


# name → (file name, writer). Each is a file a user may well have in a folder of images.
BAD_FILES: dict[str, tuple[str, Callable[[Path], object]]] = {
    "corrupt": ("corrupt.jpg", lambda p: p.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")),
    "truncated": ("truncated.png", _truncated),
    "empty": ("empty.png", lambda p: p.write_bytes(b"")),
    "wrong_type": ("notes.jpg", lambda p: p.write_text("a text file named like a picture")),
    "huge_header": ("huge.png", lambda p: p.write_bytes(_png_header(200_000, 200_000))),
    "tiny": ("tiny.png", lambda p: write_image_file(p, (1, 1))),
}


UNREADABLE = [name for name in BAD_FILES if name != "tiny"]


def write_bad_files(folder: Path, names: list[str] | None = None) -> dict[str, Path]:
    """Write the ``BAD_FILES`` (all, or ``names``) into ``folder``; returns name → path."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in names or list(BAD_FILES):
        filename, write = BAD_FILES[name]
        write(folder / filename)
        written[name] = folder / filename
    return written


class PayloadPickle:
    """Unpickling this writes ``marker``: proof that a loader ran code from a file."""

    def __init__(self, marker: Path):
        self.marker = Path(marker)

    def __reduce__(self):
        return (Path.write_text, (self.marker, "code ran while loading weights"))


def write_payload_pt(path: Path, marker: Path) -> Path:
    """A ``.pt`` weights file shaped like an ultralytics checkpoint whose unpickling writes
    ``marker``."""
    import torch

    torch.save({"model": PayloadPickle(marker), "train_args": {}}, path, pickle_protocol=4)
    return path


def run_cli(module: str, argv: list[str], home: Path) -> subprocess.CompletedProcess:
    """Run ``python -m module *argv`` as a user would, in a fresh process whose ``$HOME`` is the
    empty folder ``home`` (so a test can prove nothing was written there)."""
    home.mkdir(parents=True, exist_ok=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MPLCONFIGDIR", "YOLO_CONFIG_DIR", "APP_TOOLKIT_CACHE")
    }
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), PYTHONUNBUFFERED="1")
    env.update(XDG_CACHE_HOME=str(home / ".cache"))
    return subprocess.run(
        [sys.executable, "-m", module, *map(str, argv)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def assert_home_clean(home: Path) -> None:
    """Nothing was written under ``home`` (a :func:`run_cli` home) but the toolkit's cache folder
    (``$XDG_CACHE_HOME/app-toolkit``, see :func:`app_toolkit.thirdparty.cache_dir`)."""
    cache = home / ".cache" / "app-toolkit"
    strays = [
        p
        for p in home.rglob("*")
        if not (p == cache or p.is_relative_to(cache) or p == cache.parent)
    ]
    assert not strays, f"wrote into $HOME: {[str(p.relative_to(home)) for p in strays[:5]]}"


def assert_refused_at_parse(
    main: Callable[[list[str]], int], argv: list[str], folder: Path
) -> None:
    """``main(argv)``, run in the empty folder ``folder``, is refused by its parser: exit 2, no
    traceback, nothing written (bad option values never start any work)."""
    stderr = io.StringIO()
    with contextlib.chdir(folder), contextlib.redirect_stderr(stderr):
        try:
            main(argv)
        except SystemExit as exit_info:
            code = exit_info.code
        else:
            raise AssertionError(f"{argv} was accepted")
    assert code == 2 and "Traceback" not in stderr.getvalue(), stderr.getvalue()[-600:]
    assert not any(Path(folder).iterdir()), f"{argv} wrote into {folder}"


def fingerprint(folder: Path) -> dict[str, str]:
    """Relative path → SHA-256 of every file below ``folder`` (to prove inputs untouched)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def assert_one_line_error(code: int, stderr: str, expected_code: int = 2, match: str = "") -> None:
    """A failure as users must see it: exit ``expected_code``, exactly one line on stderr, no
    traceback, and ``match`` (if given) in that line."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    shown = stderr[-600:]
    assert code == expected_code, f"exit {code}, expected {expected_code}; stderr ends: {shown!r}"
    assert "Traceback" not in stderr, f"traceback on stderr, which ends: {shown!r}"
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}, ending: {shown!r}"
    assert match in lines[0], f"{match!r} not in {lines[0]!r}"
