"""Keeping third-party libraries inside the run: no settings or caches written to ``$HOME``, no
network, and no code run from a weights file.

matplotlib and ultralytics create config and cache folders under ``$HOME`` on first use, and
ultralytics' ``.pt`` weights are pickles that run code when loaded as ultralytics does by default.
"""

from __future__ import annotations

import atexit
import os
import tempfile
from pathlib import Path

__all__ = ["import_onnxruntime", "load_yolo_weights", "private_state_dirs"]

_STATE: tempfile.TemporaryDirectory | None = None


def private_state_dirs() -> None:
    """Point matplotlib's and ultralytics' config folders at a temporary folder of this process
    (removed at exit) unless the user chose them, and keep ultralytics offline. Every command
    calls this before it does anything."""
    global _STATE
    if _STATE is None:
        _STATE = tempfile.TemporaryDirectory(prefix="app-toolkit-")
        atexit.register(_STATE.cleanup)
    os.environ.setdefault("MPLCONFIGDIR", str(Path(_STATE.name) / "matplotlib"))
    os.environ.setdefault("YOLO_CONFIG_DIR", str(Path(_STATE.name) / "ultralytics"))
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ["ULTRALYTICS_SAFE_LOAD"] = "1"


def import_onnxruntime():
    """``onnxruntime``, imported so that the telemetry device id it writes on import lands in
    this process's temporary folder instead of ``~/.cache/Microsoft``, with telemetry off."""
    import sys

    if "onnxruntime" not in sys.modules:
        private_state_dirs()
        previous = os.environ.get("XDG_CACHE_HOME")
        os.environ["XDG_CACHE_HOME"] = str(Path(_STATE.name) / "cache")
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
    os.environ["ULTRALYTICS_SAFE_LOAD"] = "1"
    os.environ.setdefault("YOLO_OFFLINE", "1")  # else importing ultralytics looks up DNS
    from ultralytics import YOLO
    from ultralytics.nn import tasks

    tasks.SAFE_LOAD = True  # read at import: ultralytics may have been imported before
    try:
        return YOLO(str(path), task=task)
    except Exception as err:  # ultralytics raises many types for a bad or refused file
        reason = str(err).replace("ERROR ❌️ ", "").splitlines()[0] if str(err) else type(err).__name__
        raise ValueError(f"{path}: not loadable YOLO weights ({reason})") from None
