"""Atomic writes and small reports: a reader never sees a half-written output."""

from __future__ import annotations

import csv
import glob
import io
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = [
    "atomic_write",
    "check_output_dir",
    "sweep_temporaries",
    "write_csv",
    "write_json",
]


TMP_MARK = ".incomplete"
# Temporary names of atomic_write: ".NAME." + mkstemp's 8 characters + ".incomplete" (+ the
# suffix a writer needs), a name no user file is likely to have.
_TMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.incomplete(\.[A-Za-z0-9]+)?$")


def atomic_write(
    path: str | os.PathLike,
    write: Callable[[str], object],
    suffix: str = "",
    check: Callable[[str], None] | None = None,
) -> Path:
    """Call ``write(tmp_path)``, then ``check(tmp_path)`` (raise if the file is not complete),
    then rename onto ``path``, so readers never see a partial file.

    ``suffix`` ends the temporary name, for writers that choose the format from the extension
    (video containers, say). Temporary files left by a killed process are removed by
    :func:`sweep_temporaries`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_MARK + suffix)
    os.close(fd)
    try:
        write(tmp)
        if check is not None:
            check(tmp)
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def sweep_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporary files :func:`atomic_write` left below ``folder`` when its process
    was killed (``.NAME.XXXXXXXX.incomplete``); returns them. Call before a rerun writes there,
    and only in a folder this tool owns."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    stale = [p for p in folder.rglob(".*.incomplete*") if p.is_file() and _TMP_NAME.match(p.name)]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def write_json(path: str | os.PathLike, obj: object) -> Path:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    # ensure_ascii escapes every character, file names that are not valid UTF-8 included.
    text = json.dumps(obj, indent=2) + "\n"
    return atomic_write(path, lambda p: Path(p).write_text(text))


def write_csv(path: str | os.PathLike, header: list[str], rows: Iterable[list]) -> Path:
    """Write a header and rows as CSV to ``path`` atomically (UTF-8; file names that are not
    valid UTF-8 are written back as the bytes they were, never an error)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue()
    return atomic_write(path, lambda p: Path(p).write_text(text, errors="surrogateescape"))


def _glob_base(spec: str) -> Path:
    """The fixed folder a glob pattern starts from (``scans/**/*.jpg`` → ``scans``)."""
    fixed = []
    for part in Path(spec).parts:
        if glob.has_magic(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def check_output_dir(out_dir: str | os.PathLike, inputs: list[str | os.PathLike]) -> Path:
    """Refuse an output folder that is, contains or lies inside an input folder (or a glob's
    folder), or that holds an input file: no command may write where it reads. Returns the
    resolved output folder."""
    out = Path(out_dir).resolve()
    for spec in map(str, inputs):
        path = Path(spec)
        if path.is_file():
            if out == path.resolve().parent:
                raise ValueError(
                    f"--out {out_dir} is the folder of the input {spec}; choose a separate folder"
                )
            continue
        if path.is_dir():
            folder = path.resolve()
        elif glob.has_magic(spec):
            folder = _glob_base(spec).resolve()
        else:
            continue  # reported by discover
        if out == folder or out.is_relative_to(folder) or folder.is_relative_to(out):
            how = (
                "is"
                if out == folder
                else "lies inside"
                if out.is_relative_to(folder)
                else "contains"
            )
            raise ValueError(
                f"--out {out_dir} {how} the input folder {spec}; outputs go to a separate folder"
            )
    return out
