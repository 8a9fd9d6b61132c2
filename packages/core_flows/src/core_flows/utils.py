"""Small helpers shared by the CLIs of every package: devices, atomic writes, environment report."""

from __future__ import annotations

import datetime
import json
import os
import platform
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

__all__ = ["atomic_write", "environment", "resolve_device", "write_json"]


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` → CUDA when present else CPU; ``cpu``; ``cuda`` or ``cuda:N`` (checked to exist)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {name!r}") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r} asked for, but no CUDA device is available")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"device {name!r}: only {torch.cuda.device_count()} CUDA devices")
    elif device.type != "cpu":
        raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {name!r}")
    return device


def atomic_write(
    path: str | os.PathLike, write: Callable[[str], object], suffix: str = ".tmp"
) -> Path:
    """Call ``write(tmp_path)`` then rename onto ``path``, so readers never see a partial file.

    ``suffix`` ends the temporary name, for writers that choose the format from the extension
    (video containers, say)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: str | os.PathLike, obj: object) -> Path:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    text = json.dumps(obj, indent=2) + "\n"
    return atomic_write(path, lambda p: Path(p).write_text(text))


def environment(device: torch.device | None = None) -> dict[str, object]:
    """Versions, machine and device, for bug reports and beside every benchmark result."""
    info: dict[str, object] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "cpu_threads": torch.get_num_threads(),
        "cuda_available": torch.cuda.is_available(),
    }
    try:
        import triton

        info["triton"] = triton.__version__
    except ImportError:
        info["triton"] = None
    if device is not None:
        info["device"] = str(device)
        if device.type == "cuda":
            info["gpu"] = torch.cuda.get_device_name(device)
    return info
