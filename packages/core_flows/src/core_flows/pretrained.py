"""Config-plus-weights checkpoints: ``save_pretrained(dir)`` / ``from_pretrained(dir)``.

A module's constructor arguments are its config. ``save_pretrained`` writes them to ``config.json``
and the state dict (parameters and persistent buffers, e.g. ActNorm's initialisation flag) to
``model.safetensors``; ``from_pretrained`` rebuilds the module from the config and loads the weights.
Nothing is ever unpickled.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from core_flows.errors import CheckpointError
from core_flows.utils import atomic_write

__all__ = ["CONFIG_NAME", "WEIGHTS_NAME", "PretrainedMixin", "store_half"]

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(
        f"config value {value!r} of type {type(value).__name__} is not JSON-serialisable"
    )


class PretrainedMixin:
    """Records constructor arguments as ``self.config`` and saves/loads config plus weights."""

    config: dict[str, Any]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return
        signature = inspect.signature(init)

        @functools.wraps(init)
        def recording_init(self, *args, **kw):
            # The outermost constructor records; a subclass's super().__init__ must not overwrite.
            if "config" not in self.__dict__:
                bound = signature.bind(self, *args, **kw)
                bound.apply_defaults()
                config = {k: v for k, v in bound.arguments.items() if k != "self"}
                object.__setattr__(self, "config", _jsonable(config))
            init(self, *args, **kw)

        cls.__init__ = recording_init

    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """Write ``config.json`` and ``model.safetensors`` into ``directory`` (created if needed)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        config = {"_class_name": type(self).__name__, **self.config}
        state = {k: v.detach().contiguous().cpu() for k, v in self.state_dict().items()}
        atomic_write(directory / WEIGHTS_NAME, lambda p: save_file(state, p))
        atomic_write(
            directory / CONFIG_NAME,
            lambda p: Path(p).write_text(json.dumps(config, indent=2) + "\n"),
        )
        return directory

    @classmethod
    def from_pretrained(
        cls, directory: str | os.PathLike, device: str | torch.device = "cpu", **overrides
    ):
        """Rebuild from ``directory`` (as written by :meth:`save_pretrained`); ``overrides`` replace
        config entries that do not change parameter shapes (e.g. an inverse backend)."""
        directory = Path(directory)
        config_path, weights_path = directory / CONFIG_NAME, directory / WEIGHTS_NAME
        for path in (config_path, weights_path):
            if not path.is_file():
                raise CheckpointError(
                    f"{path} not found: expected a folder written by save_pretrained"
                )
        try:
            config = json.loads(config_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise CheckpointError(f"{config_path} is not valid JSON ({err})") from None
        name = config.pop("_class_name", None)
        if name != cls.__name__:
            raise CheckpointError(f"{directory} holds a {name}, not a {cls.__name__}")
        config.update(overrides)
        try:
            model = cls(**config)
        except TypeError as err:
            raise CheckpointError(f"{config_path} does not match {cls.__name__}: {err}") from None
        try:
            state = load_file(weights_path, device=str(device))
        except (SafetensorError, OSError) as err:
            raise CheckpointError(f"{weights_path} is corrupt or truncated ({err})") from None
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as err:
            raise CheckpointError(f"{weights_path} does not fit the config: {err}") from None
        return model.to(device)


def store_half(directory: str | os.PathLike) -> list[Path]:
    """Rewrite every ``*.safetensors`` below ``directory`` with its float32 tensors as float16
    (half the size on disk, for shipped weights); loaders cast back to the model's float32."""
    rewritten = []
    for path in sorted(Path(directory).rglob("*.safetensors")):
        state = load_file(path)
        half = {k: v.half() if v.dtype == torch.float32 else v for k, v in state.items()}
        atomic_write(path, lambda p, half=half: save_file(half, p))
        rewritten.append(path)
    return rewritten
