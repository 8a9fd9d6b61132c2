"""Small helpers shared by the CLIs of every package: devices, atomic writes, environment report."""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import json
import logging
import os
import platform
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import ModuleType

import torch

__all__ = [
    "atomic_write",
    "command_parser",
    "environment",
    "print_fields",
    "resolve_device",
    "run_command",
    "write_csv",
    "write_json",
]


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
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: str | os.PathLike, obj: object) -> Path:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    text = json.dumps(obj, indent=2) + "\n"
    return atomic_write(path, lambda p: Path(p).write_text(text))


def write_csv(path: str | os.PathLike, header: list[str], rows: Iterable[list]) -> Path:
    """Write a header and rows as CSV to ``path`` atomically."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return atomic_write(path, lambda p: Path(p).write_text(buffer.getvalue()))


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


def command_parser(
    prog: str, description: str, version: str, subcommands: Sequence[ModuleType]
) -> argparse.ArgumentParser:
    """One command with subcommands; each subcommand module has ``add_parser(sub)``, which sets
    ``run`` as the subcommand's default."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--version", action="version", version=f"{prog} {version}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in subcommands:
        module.add_parser(sub)
    return parser


def run_command(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> int:
    """Parse, set up logging (``--quiet`` keeps warnings only) and run the subcommand. Bad input
    (``ValueError``) exits 2 and a failure (``OSError``, ``RuntimeError``) exits 1, each with one
    line on stderr and no traceback."""
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if getattr(args, "quiet", False) else logging.INFO,
        format="%(message)s",
    )
    try:
        return args.run(args) or 0
    except ValueError as err:
        print(f"{parser.prog} {args.command}: error: {err}", file=sys.stderr)
        return 2
    except (OSError, RuntimeError) as err:
        print(f"{parser.prog} {args.command}: failed: {err}", file=sys.stderr)
        return 1


def print_fields(fields: dict[str, object]) -> None:
    """Print ``key  value`` lines with the keys aligned."""
    width = max(map(len, fields))
    for key, value in fields.items():
        print(f"{key:<{width}}  {value}")
