"""Ultralytics YOLO models, offline: built from a model YAML or loaded from local weights, and saved
as ``config.json`` + ``model.safetensors`` (no pickle) for shipping.

Ultralytics downloads weights, fonts and an AMP-check model when asked for them; here a model is
only ever built from a YAML (ours in ``traffic_signs/cfg`` or one of ultralytics' own, which ship in
its wheel) or loaded from a local file, training runs with ``amp=False, plots=False``, and
``YOLO_OFFLINE`` is set before ultralytics is imported.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ["ULTRALYTICS_SAFE_LOAD"] = "1"

__all__ = [
    "builtin_config",
    "load_yolo",
    "save_yolo",
    "shipped_model",
    "train_yolo",
    "no_font_download",
    "staged_dataset",
    "ultralytics_device",
]

CONFIG, WEIGHTS = "config.json", "model.safetensors"


@contextlib.contextmanager
def _quiet_ultralytics():
    """Ultralytics logs a model summary when it builds one; loading a saved model is not news."""
    from ultralytics.utils import LOGGER

    level = LOGGER.level
    LOGGER.setLevel(logging.WARNING)
    try:
        yield
    finally:
        LOGGER.setLevel(level)


@contextlib.contextmanager
def no_font_download():
    """Ultralytics' dataset check fetches a font for its plots (a DNS look-up of github.com even
    offline); plots are off here, so the check is skipped while a dataset is read."""
    from ultralytics.data import utils as data_utils

    original = data_utils.check_font
    data_utils.check_font = lambda *args, **kwargs: None
    try:
        yield
    finally:
        data_utils.check_font = original


def _link_tree(source: Path, target: Path) -> None:
    """``target`` mirrors the files below ``source`` as symbolic links, in real folders."""
    for path in sorted(source.rglob("*")):
        if path.is_file():
            link = target / path.relative_to(source)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(path.resolve())


@contextlib.contextmanager
def staged_dataset(data: str | os.PathLike, work_dir: str | os.PathLike):
    """The dataset ``data`` (a detection ``data.yaml`` or a classification folder) mirrored by
    symbolic links into ``work_dir/dataset`` for the block, so that the label caches ultralytics
    writes beside a dataset land there and never in the user's folders. Yields what to give
    ultralytics in place of ``data``; the mirror is removed afterwards."""
    import yaml

    data, stage = Path(data), Path(work_dir) / "dataset"
    if stage.exists():
        shutil.rmtree(stage)
    try:
        if data.is_dir():  # classification: train/, val/ (and test/) class folders
            for split in ("train", "val", "test"):
                if (data / split).is_dir():
                    _link_tree(data / split, stage / split)
            yield stage
            return
        config = yaml.safe_load(data.read_text())
        if not isinstance(config, dict):
            raise ValueError(f"{data}: not a YOLO data.yaml")
        root = Path(config.get("path") or data.parent)
        root = root if root.is_absolute() else (data.parent / root)
        for split in ("train", "val", "test"):
            entry = config.get(split)
            if not isinstance(entry, str) or not (root / entry).is_dir():
                continue  # lists and .txt file lists are passed through as they are
            images = (root / entry).resolve()
            _link_tree(images, stage / entry)
            labels = Path(str(images).replace(f"{os.sep}images", f"{os.sep}labels", 1))
            if labels != images and labels.is_dir():
                label_entry = entry.replace("images", "labels", 1)
                _link_tree(labels, stage / label_entry)
        staged = stage / "data.yaml"
        staged.write_text(yaml.safe_dump({**config, "path": str(stage.resolve())}))
        yield staged
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def ultralytics_device(name: str = "auto") -> str:
    """``--device`` (auto, cpu, cuda, cuda:N) in ultralytics' spelling (``cpu`` or ``N``)."""
    from app_toolkit.devices import resolve_device

    device = resolve_device(name)
    return "cpu" if device.type == "cpu" else str(device.index or 0)


def builtin_config(name: str) -> Path:
    """``detector`` or ``context``: the model YAML shipped with this package."""
    return Path(str(resources.files("traffic_signs") / "cfg" / f"{name}.yaml"))


def shipped_model(name: str) -> Path:
    """Folder of a model shipped in the package: ``detector`` or ``context``."""
    path = Path(str(resources.files("traffic_signs") / "pretrained" / name))
    if not (path / CONFIG).is_file():
        raise ValueError(f"the shipped {name} weights are missing from the installed package")
    return path


def load_yolo(source: str | os.PathLike, task: str, default: str):
    """An ultralytics ``YOLO`` for ``task`` from: ``default`` (the shipped ``default`` model), a
    folder written by :func:`save_yolo`, a ``.pt`` file (ultralytics' own format, a pickle, loaded in
    ultralytics' safe mode so that it cannot run code), or a model ``.yaml`` (new, untrained
    weights)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file
    from ultralytics import YOLO

    from app_toolkit.thirdparty import load_yolo_weights

    path = shipped_model(default) if str(source) == "default" else Path(source)
    if path.is_dir():
        if not (path / CONFIG).is_file() or not (path / WEIGHTS).is_file():
            raise ValueError(f"{path}: not a model folder (needs {CONFIG} and {WEIGHTS})")
        try:
            config = json.loads((path / CONFIG).read_text())
            model_yaml, names = config["model"], config["names"]
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as err:
            what = f"no {err} entry" if isinstance(err, KeyError) else "not valid JSON"
            raise ValueError(f"{path / CONFIG}: {what}; save the model again") from None
        if config.get("task") != task:
            raise ValueError(f"{path} holds a {config.get('task')} model, not a {task} model")
        with tempfile.TemporaryDirectory() as tmp, _quiet_ultralytics():
            yaml = Path(tmp) / "model.yaml"
            yaml.write_text(json.dumps(model_yaml))  # JSON is YAML
            model = YOLO(str(yaml), task=task)
        try:
            state = load_file(path / WEIGHTS)
        except (SafetensorError, OSError) as err:
            raise ValueError(f"{path / WEIGHTS} is corrupt or truncated ({err})") from None
        try:
            model.model.load_state_dict(state, strict=True)
        except RuntimeError as err:
            reason = str(err).splitlines()[0]
            raise ValueError(f"{path / WEIGHTS} does not fit {path / CONFIG}: {reason}") from None
        model.model.names = {int(k): v for k, v in names.items()}
        model.model.eval()
        if "imgsz" in config:  # predict at the size the model was trained at
            model.overrides["imgsz"] = config["imgsz"]
        return model
    if not path.is_file():
        raise ValueError(f"{path}: no such model file or folder")
    if path.suffix not in (".pt", ".yaml", ".yml"):
        raise ValueError(f"{path}: expected a model folder, a .pt file or a model .yaml")
    if path.suffix == ".pt":
        model = load_yolo_weights(path, task=task)
    else:
        try:
            model = YOLO(str(path), task=task)
        except Exception as err:  # ultralytics raises many types for a bad file
            raise ValueError(f"{path}: not a loadable YOLO {task} model ({err})") from None
    if model.task != task:
        raise ValueError(f"{path} is a {model.task} model, not a {task} model")
    return model


def save_yolo(model, folder: str | os.PathLike, imgsz: int | None = None) -> Path:
    """Write ``model`` (an ultralytics ``YOLO``) as ``config.json`` (task, model YAML, class
    names, the image size to predict at) and ``model.safetensors`` (fp32 state dict) into
    ``folder``."""
    from safetensors.torch import save_file

    from app_toolkit.files import atomic_write

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    net = model.model
    state = {k: v.detach().float().contiguous().cpu() for k, v in net.state_dict().items()}
    config = {"task": model.task, "names": dict(net.names), "model": dict(net.yaml)}
    config["imgsz"] = int(imgsz or model.overrides.get("imgsz") or 640)
    atomic_write(folder / WEIGHTS, lambda p: save_file(state, p))
    atomic_write(folder / CONFIG, lambda p: Path(p).write_text(json.dumps(config, indent=2)))
    return folder


def train_yolo(
    model,
    data: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    epochs: int,
    imgsz: int,
    batch: int,
    device: str,
    seed: int = 0,
    overwrite: bool = False,
    **overrides,
) -> dict:
    """Train with ultralytics offline (no AMP check, no plots, no downloads); the run's files go to
    ``out_dir/run`` and the best weights to ``out_dir/model`` (``save_yolo`` format). A model
    already in ``out_dir`` is replaced only with ``overwrite``."""
    if (Path(out_dir) / "model").exists() and not overwrite:
        raise ValueError(f"{out_dir} already holds a trained model; pass --overwrite to replace it")
    # Mirror flips turn a left-hand curve (or side road) into a right-hand one: off unless asked.
    overrides.setdefault("fliplr", 0.0)
    out_dir = Path(out_dir).resolve()
    run = out_dir / "run"
    if run.exists():
        shutil.rmtree(run)
    with no_font_download(), staged_dataset(data, out_dir) as staged:
        model.train(
            data=str(staged),
            epochs=epochs,
            imgsz=imgsz,
            batch=batch,
            device=device,
            seed=seed,
            deterministic=True,
            amp=False,
            plots=False,
            workers=0,
            project=str(out_dir),
            name="run",
            exist_ok=True,
            verbose=False,
            **overrides,
        )
    from app_toolkit.thirdparty import load_yolo_weights

    best = run / "weights" / "best.pt"
    trained = load_yolo_weights(best if best.is_file() else run / "weights" / "last.pt")
    save_yolo(trained, out_dir / "model", imgsz=imgsz)
    return {"weights": str(out_dir / "model"), "run": str(run)}
