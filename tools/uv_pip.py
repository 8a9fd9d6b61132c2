"""``uv pip`` with this machine's pip configuration: the same indexes, find-links and constraints.

    python tools/uv_pip.py install -c tools/constraints.txt -e packages/core_flows
    python tools/uv_pip.py --python .venvs/geomap/bin/python check

uv installs from a shared cache by hard links, so a fresh virtualenv with PyTorch takes seconds
instead of minutes, but it reads none of pip's configuration. This script reads pip's
(``pip config list``: files and ``PIP_*`` variables) and hands it to uv as ``UV_*`` variables;
variables the caller set already win. pip picks the best version across all indexes, so uv is
told to do the same (``unsafe-best-match``). pip compiles bytecode at install time and uv does
not, which costs every later process seconds of compiling PyTorch where ``PYTHONDONTWRITEBYTECODE``
is set, so uv is told to compile too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

__all__ = ["parse_pip_config", "pip_settings", "uv_binary", "uv_environment", "uv_pip"]

# pip setting → uv variable (values are space-separated lists in both)
UV_VARIABLE = {
    "index-url": "UV_DEFAULT_INDEX",
    "extra-index-url": "UV_INDEX",
    "find-links": "UV_FIND_LINKS",
    "cert": "SSL_CERT_FILE",
    "default-timeout": "UV_HTTP_TIMEOUT",
}
# pip's precedence: variables over command sections over [global]
SCOPE_RANK = {":env:": 2, "install": 1, "global": 0}


def uv_binary() -> str | None:
    """The uv executable installed beside this interpreter (the ``uv`` wheel), else on PATH."""
    try:
        from uv import find_uv_bin
    except ImportError:
        import shutil

        return shutil.which("uv")
    return find_uv_bin()


def pip_settings() -> dict[str, str]:
    """pip's effective settings on this machine, ``{"extra-index-url": "file:///...", ...}``."""
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    ).stdout
    return parse_pip_config(listing)


def parse_pip_config(listing: str) -> dict[str, str]:
    """The effective settings from ``pip config list`` output (``global.timeout='60'`` lines)."""
    settings: dict[str, tuple[int, str]] = {}
    for line in listing.splitlines():
        match = re.fullmatch(r"(:env:|[\w-]+)\.([\w-]+)='(.*)'", line.strip())
        if match is None:
            continue
        scope, key, value = match.groups()
        rank = SCOPE_RANK.get(scope)
        if rank is not None and (key not in settings or rank >= settings[key][0]):
            settings[key] = (rank, value)
    return {key: value for key, (_, value) in settings.items()}


def uv_environment(settings: dict[str, str], environ: dict[str, str] | None = None) -> dict[str, str]:
    """``environ`` (default: this process's) plus the ``UV_*`` variables that give uv ``settings``."""
    env = dict(os.environ if environ is None else environ)
    for key, variable in UV_VARIABLE.items():
        if key in settings:
            env.setdefault(variable, " ".join(settings[key].split()))
    env.setdefault("UV_INDEX_STRATEGY", "unsafe-best-match")
    env.setdefault("UV_COMPILE_BYTECODE", "1")
    return env


def uv_pip(arguments: list[str], python: str = sys.executable) -> int:
    """Run ``uv pip ARGUMENTS --python PYTHON`` configured as pip is; its exit code."""
    uv = uv_binary()
    if uv is None:
        raise SystemExit("uv_pip: uv is not installed: pip install uv")
    command, *rest = arguments
    settings = pip_settings()
    if command == "install":  # flags, since a -c on the command line would hide UV_CONSTRAINT
        for constraint in settings.get("constraint", "").split():
            rest += ["-c", constraint]
    env = uv_environment(settings)
    return subprocess.run([uv, "pip", command, "--python", python, *rest], env=env).returncode


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    python = sys.executable
    if argv[:1] == ["--python"] and len(argv) > 1:
        python = str(Path(argv[1]))
        argv = argv[2:]
    if not argv:
        raise SystemExit(__doc__)
    return uv_pip(argv, python)


if __name__ == "__main__":
    sys.exit(main())
