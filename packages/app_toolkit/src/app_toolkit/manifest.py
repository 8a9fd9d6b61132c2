"""What produced the outputs of a resumable batch job, kept beside them, so that a rerun skips
exactly the outputs that the same model, options and input bytes would produce again.

``OUT/run-manifest.json`` holds the run's settings (model fingerprint and options) and, per
output, the SHA-256 of the input it came from. A rerun with the same settings skips finished
outputs whose input is unchanged; a rerun with other settings is refused unless ``overwrite``
(then every output is redone), so results of another model are never reported as done.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path

from app_toolkit.files import sweep_temporaries, write_json

__all__ = ["MANIFEST_NAME", "RunManifest", "file_digest", "module_fingerprint"]

MANIFEST_NAME = "run-manifest.json"
SAVE_EVERY = 2.0  # seconds: a killed run loses at most this much of its record


def file_digest(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def module_fingerprint(module) -> str:
    """SHA-256 over a module's state dict (names, dtypes, shapes, values): the model's identity,
    wherever its weights came from."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        t = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        digest.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


def _manifest_problem(data: object) -> str | None:
    """What is wrong with a manifest's content, or None when it has the expected shape."""
    if not isinstance(data, dict):
        return f"expected a JSON object, found {type(data).__name__}"
    if not isinstance(data.get("settings"), dict):
        return '"settings" is missing or not an object'
    outputs = data.get("outputs", {})
    if not isinstance(outputs, dict):
        return '"outputs" is not an object'
    for key, digest in outputs.items():
        if not (isinstance(digest, str) and len(digest) == 64):
            return f'"outputs" entry {key!r} is not a SHA-256 digest'
    return None


class RunManifest:
    """The manifest of ``out_dir`` for a run with ``settings`` (JSON-serialisable)."""

    def __init__(
        self,
        out_dir: str | os.PathLike,
        settings: dict,
        overwrite: bool = False,
        sweep: bool = True,
    ):
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / MANIFEST_NAME
        self.settings = json.loads(json.dumps(settings))
        self.outputs: dict[str, str] = {}
        self._saved = -float("inf")
        self._lock = threading.Lock()
        previous = self._load(overwrite)
        # only in a folder of ours, rerun as it was (or redone): a killed run's partial files
        sweep = sweep and self.path.is_file()
        if previous is None or overwrite:
            if sweep and overwrite:
                sweep_temporaries(self.out_dir)
            return
        if previous.get("settings") != self.settings:
            changed = sorted(
                k
                for k in set(self.settings) | set(previous.get("settings", {}))
                if self.settings.get(k) != previous.get("settings", {}).get(k)
            )
            raise ValueError(
                f"{self.out_dir} holds outputs of a run with other settings ({', '.join(changed)}); "
                "pass --overwrite to redo them, or choose another --out"
            )
        if sweep:
            sweep_temporaries(self.out_dir)
        self.outputs = dict(previous.get("outputs", {}))

    def _load(self, overwrite: bool) -> dict | None:
        if not self.path.is_file():
            if self.out_dir.is_dir() and any(self.out_dir.iterdir()):
                return {"settings": {"unknown": "outputs of an earlier version or another tool"}}
            return None
        try:
            previous = json.loads(self.path.read_text())
            problem = _manifest_problem(previous)
        except (json.JSONDecodeError, UnicodeDecodeError, OSError) as err:
            problem = f"not readable JSON ({err})"
        if problem is None or overwrite:
            return None if problem else previous
        raise ValueError(
            f"{self.path} is damaged: {problem}; pass --overwrite to redo every output (the "
            "manifest is rewritten), or choose another --out"
        )

    def _key(self, output: Path) -> str:
        return Path(output).resolve().relative_to(self.out_dir.resolve()).as_posix()

    def done(
        self, output: str | os.PathLike, source: str | os.PathLike, digest: str | None = None
    ) -> bool:
        """Whether ``output`` exists and was made by these settings from ``source`` as it is
        (``digest``: the source's :func:`file_digest` when known)."""
        key = self._key(Path(output))
        if not (Path(output).is_file() and key in self.outputs):
            return False
        return self.outputs[key] == (digest or file_digest(source))

    def record(
        self, output: str | os.PathLike, source: str | os.PathLike, digest: str | None = None
    ) -> None:
        """Note ``output`` as made from ``source`` (call after it is written; ``digest``: the
        source's :func:`file_digest` when known). The manifest is saved at most every few
        seconds; call :meth:`save` at the end of the run."""
        with self._lock:
            self.outputs[self._key(Path(output))] = digest or file_digest(source)
            due = time.monotonic() - self._saved >= SAVE_EVERY
        if due:
            self.save()

    def save(self) -> None:
        """Write the manifest (settings and the outputs recorded so far). Thread-safe."""
        with self._lock:
            content = {"settings": self.settings, "outputs": dict(self.outputs)}
            self._saved = time.monotonic()
        write_json(self.path, content)
