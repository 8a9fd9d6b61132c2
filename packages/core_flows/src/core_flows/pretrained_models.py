"""Shipped default models (package data) and loading a flow by name or folder."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import torch

from app_toolkit.devices import resolve_device
from core_flows.models import MultiScaleFlow

__all__ = ["available_models", "count_parameters", "load_flow", "model_dir"]

_PACKAGE_DIR = "pretrained"


def available_models() -> list[str]:
    """Names of the models shipped inside the package."""
    root = resources.files("core_flows") / _PACKAGE_DIR
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "config.json").is_file())


def model_dir(name: str) -> Path:
    """Folder of a shipped model."""
    if name not in available_models():
        raise ValueError(f"no shipped model {name!r}; shipped: {', '.join(available_models())}")
    return Path(str(resources.files("core_flows") / _PACKAGE_DIR / name))


def load_flow(name_or_path: str | os.PathLike, device: str = "auto") -> MultiScaleFlow:
    """Load a :class:`MultiScaleFlow` from a ``save_pretrained`` folder, a training output folder
    (its ``model/`` subfolder) or the name of a shipped model (e.g. ``finc-digits``)."""
    path = Path(name_or_path)
    if path.is_dir() and (path / "model" / "config.json").is_file():
        path = path / "model"
    elif not path.is_dir():
        if str(name_or_path) in available_models():
            path = model_dir(str(name_or_path))
        else:
            raise ValueError(
                f"{name_or_path} is neither a model folder nor a shipped model "
                f"({', '.join(available_models()) or 'none shipped'})"
            )
    flow = MultiScaleFlow.from_pretrained(path, device=resolve_device(device))
    flow.eval()
    return flow


def count_parameters(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
