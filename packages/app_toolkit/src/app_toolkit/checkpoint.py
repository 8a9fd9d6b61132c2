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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from app_toolkit.files import atomic_write

__all__ = [
    "CONFIG_NAME",
    "WEIGHTS_NAME",
    "CheckpointError",
    "check_finite",
    "check_loaded",
    "nonfinite_names",
    "PretrainedMixin",
    "register_to_config",
    "store_half",
]

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


class CheckpointError(ValueError):
    """A checkpoint folder is missing, incomplete, corrupt or belongs to another class."""


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


def nonfinite_names(state: dict[str, torch.Tensor]) -> str:
    """The names of ``state``'s floating-point tensors that hold NaN or infinity, as one short
    string ("" when every value is finite)."""
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    return ", ".join(bad[:3]) + (", ..." if len(bad) > 3 else "")


def check_finite(state: dict[str, torch.Tensor], what: str = "model") -> None:
    """Raise ``ValueError`` if a floating-point tensor of ``state`` holds NaN or infinity: a
    diverged model is never saved as if it were a result."""
    bad = nonfinite_names(state)
    if bad:
        raise ValueError(
            f"{what} has non-finite weights ({bad}); "
            "not saved (training diverged: lower the learning rate or check the data)"
        )


def check_loaded(state: dict[str, torch.Tensor], path: str | os.PathLike) -> None:
    """Raise :class:`CheckpointError` if weights read from ``path`` hold NaN or infinity (a model
    that would turn every output black or blank)."""
    bad = nonfinite_names(state)
    if bad:
        raise CheckpointError(f"{path} holds NaN or infinite weights ({bad}); not usable")


def _check_shapes(cls: type, config: dict, weights_path: Path, config_path: Path) -> None:
    """Compare the shapes ``cls(**config)`` would allocate with the tensors in the weights file,
    building the module on the meta device (no memory), so that a config with huge sizes fails
    before anything is allocated."""
    try:
        with safe_open(str(weights_path), "pt") as f:
            stored = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}  # noqa: SIM118
    except (SafetensorError, OSError) as err:
        raise CheckpointError(f"{weights_path} is corrupt or truncated ({err})") from None
    try:
        with torch.device("meta"):
            skeleton = cls(**config)
    except TypeError as err:
        raise CheckpointError(f"{config_path} does not match {cls.__name__}: {err}") from None
    except Exception:  # noqa: BLE001 - a constructor that needs real data: checked after loading
        return
    try:
        wanted = {k: tuple(v.shape) for k, v in skeleton.state_dict().items()}
    except RuntimeError:  # lazy modules have no shapes yet: checked after loading
        return
    for name, shape in wanted.items():
        if stored.get(name, shape) != shape:
            raise CheckpointError(
                f"{config_path} does not fit the weights: {name} would be {list(shape)}, the "
                f"file holds {list(stored[name])}"
            )


def register_to_config(init: Callable) -> Callable:
    """Decorate a :class:`PretrainedMixin` subclass's ``__init__`` so that its arguments (defaults
    filled in) become ``self.config``, the ``config.json`` that :meth:`~PretrainedMixin.from_pretrained`
    rebuilds the module from. Values must be JSON-serialisable."""
    signature = inspect.signature(init)

    @functools.wraps(init)
    def recording_init(self, *args, **kwargs):
        # The outermost constructor records; a subclass's super().__init__ must not overwrite.
        if "config" not in self.__dict__:
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            config = {k: v for k, v in bound.arguments.items() if k != "self"}
            object.__setattr__(self, "config", _jsonable(config))
        init(self, *args, **kwargs)

    recording_init.registers_config = True
    return recording_init


class PretrainedMixin:
    """Saves and loads config plus weights; the config is what :func:`register_to_config`
    recorded from the constructor."""

    config: dict[str, Any]

    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """Write ``config.json`` and ``model.safetensors`` into ``directory`` (created if needed)."""
        # The nearest __init__ must record: an undecorated subclass would save its parent's config.
        if not getattr(type(self).__init__, "registers_config", False):
            raise TypeError(
                f"{type(self).__name__}.__init__ is not decorated with @register_to_config"
            )
        state = {k: v.detach().contiguous().cpu() for k, v in self.state_dict().items()}
        check_finite(state, type(self).__name__)
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        config = {"_class_name": type(self).__name__, **self.config}
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
        _check_shapes(cls, config, weights_path, config_path)
        try:
            model = cls(**config)
        except TypeError as err:
            raise CheckpointError(f"{config_path} does not match {cls.__name__}: {err}") from None
        try:
            state = load_file(weights_path, device=str(device))
        except (SafetensorError, OSError) as err:
            raise CheckpointError(f"{weights_path} is corrupt or truncated ({err})") from None
        check_loaded(state, weights_path)
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
