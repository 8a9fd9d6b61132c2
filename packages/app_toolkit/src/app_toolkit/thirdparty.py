"""Keeping third-party libraries in one place and quiet: their settings and caches in one folder
per user, no network, no banners, and no code run from a weights file.

matplotlib, ultralytics and onnxruntime create config and cache folders under ``$HOME`` on first
use; matplotlib rebuilds its font cache and ultralytics prints a settings banner whenever that
folder is new. All three are pointed at :func:`cache_dir` (``$APP_TOOLKIT_CACHE``, else
``$XDG_CACHE_HOME/app-toolkit``, else ``~/.cache/app-toolkit``), so each is built once. ultralytics'
``.pt`` weights are pickles that run code when loaded as ultralytics does by default.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import tempfile
from pathlib import Path

__all__ = [
    "CACHE_ENV",
    "cache_dir",
    "import_onnxruntime",
    "load_yolo_weights",
    "private_state_dirs",
]

CACHE_ENV = "APP_TOOLKIT_CACHE"
_FALLBACK: tempfile.TemporaryDirectory | None = None


def cache_dir() -> Path:
    """The folder for third-party settings and caches: ``$APP_TOOLKIT_CACHE`` if set, else
    ``$XDG_CACHE_HOME/app-toolkit``, else ``~/.cache/app-toolkit``. Where that cannot be created
    (a read-only home), a temporary folder of this process, removed at exit."""
    global _FALLBACK
    if os.environ.get(CACHE_ENV):
        folder = Path(os.environ[CACHE_ENV]).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        folder = Path(base).expanduser() / "app-toolkit"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if os.access(folder, os.W_OK):
            return folder
    except OSError:
        pass
    if _FALLBACK is None:
        _FALLBACK = tempfile.TemporaryDirectory(prefix="app-toolkit-")
        atexit.register(_FALLBACK.cleanup)
    return Path(_FALLBACK.name)


class _NoSettingsBanner(logging.Filter):
    """Drops ultralytics' "Creating new Ultralytics Settings ..." lines (printed on stdout)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Creating new Ultralytics Settings")


def private_state_dirs() -> None:
    """Point matplotlib's and ultralytics' config folders into :func:`cache_dir` unless the user
    chose them, keep ultralytics offline and its settings banner out of the output. Every
    command calls this before it does anything."""
    if "MPLCONFIGDIR" not in os.environ or "YOLO_CONFIG_DIR" not in os.environ:
        root = cache_dir()
        os.environ.setdefault("MPLCONFIGDIR", str(root / "matplotlib"))
        os.environ.setdefault("YOLO_CONFIG_DIR", str(root / "ultralytics"))
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ["ULTRALYTICS_SAFE_LOAD"] = "1"
    banner = logging.getLogger("ultralytics")
    if not any(isinstance(f, _NoSettingsBanner) for f in banner.filters):
        banner.addFilter(_NoSettingsBanner())


def import_onnxruntime():
    """``onnxruntime``, imported so that the telemetry device id it writes on import lands in
    :func:`cache_dir` instead of ``~/.cache/Microsoft``, with telemetry off."""
    if "onnxruntime" not in sys.modules:
        private_state_dirs()
        previous = os.environ.get("XDG_CACHE_HOME")
        os.environ["XDG_CACHE_HOME"] = str(cache_dir() / "onnxruntime")
        try:
            import onnxruntime
        finally:
            if previous is None:
                del os.environ["XDG_CACHE_HOME"]
            else:
                os.environ["XDG_CACHE_HOME"] = previous
        onnxruntime.disable_telemetry_events()
    return sys.modules["onnxruntime"]


def load_yolo_weights(path: str | os.PathLike, task: str | None = None):
    """An ultralytics ``YOLO`` from a ``.pt`` file, unpickled in ultralytics' safe mode
    (``torch.load(weights_only=True)`` with an allow-list of its own model classes): official and
    self-trained weights load, a file that would run code raises ``ValueError``."""
    private_state_dirs()  # also before ultralytics is imported: YOLO_OFFLINE, else it looks up DNS
    from ultralytics import YOLO
    from ultralytics.nn import tasks

    tasks.SAFE_LOAD = True  # read at import: ultralytics may have been imported before
    try:
        return YOLO(str(path), task=task)
    except Exception as err:  # ultralytics raises many types for a bad or refused file
        reason = (
            str(err).replace("ERROR ❌️ ", "").splitlines()[0] if str(err) else type(err).__name__
        )
        raise ValueError(f"{path}: not loadable YOLO weights ({reason})") from None
