"""The affine-sr model folder: what :meth:`AffineSR.save_pretrained` writes and
:meth:`AffineSR.from_pretrained` and :func:`load_model` read, and the shipped weights.

A folder holds ``autoencoder/`` and ``encoder/`` (config.json + safetensors), ``unet/`` (unless the
prior is an external frozen folder, then its path is recorded), ``scheduler/`` (diffusers
folders), ``refiner/`` if there is one, ``sft.safetensors`` (the SFT layers, and the prompt
embedding of a text-conditioned prior) and ``config.json``. Nothing is downloaded, and nothing
executable is loaded.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch
from safetensors import SafetensorError
from torch import nn

from affine_sr.autoencoder import CouplingAutoencoder
from affine_sr.conditioning import TimeAwareEncoder
from affine_sr.model import AffineSR
from affine_sr.refiner import Refiner
from app_toolkit.checkpoint import CheckpointError

__all__ = ["load_folder", "load_model", "load_unet", "save_model", "shipped_model"]


def save_model(model: AffineSR, directory: str | os.PathLike) -> Path:
    """Write ``model``'s folder (see the module's docstring); returns it."""
    from safetensors.torch import save_file

    from app_toolkit.files import atomic_write, write_json

    directory = Path(directory)
    model.autoencoder.save_pretrained(directory / "autoencoder")
    model.encoder.save_pretrained(directory / "encoder")
    if model.prior is None:
        model.unet.save_pretrained(directory / "unet")
    model.scheduler.save_pretrained(directory / "scheduler")
    if model.refiner is not None:
        model.refiner.save_pretrained(directory / "refiner")
    elif (directory / "refiner").is_dir():  # a stale one would load with these weights
        shutil.rmtree(directory / "refiner")
    state = {k: v.detach().contiguous().cpu() for k, v in model.sfts.state_dict().items()}
    if model.prompt_embeds is not None:
        state["prompt_embeds"] = model.prompt_embeds.detach().contiguous().cpu()
    atomic_write(directory / "sft.safetensors", lambda p: save_file(state, p))
    config = {
        "unet_class": type(model.unet).__name__,
        "scheduler_class": type(model.scheduler).__name__,
        "latent_scale": model.latent_scale,
        "residual": model.residual,
        "residual_scale": model.residual_scale,
        "full_code": model.full_code,
        "prior": model.prior,
    }
    write_json(directory / "config.json", config)
    return directory


def load_folder(
    directory: str | os.PathLike, device: str = "cpu", prior: str | None = None
) -> AffineSR:
    """The model in a folder written by :func:`save_model`. ``prior`` overrides the path of an
    external frozen UNet recorded in the folder. An incomplete, truncated or mismatched folder
    raises :class:`~app_toolkit.checkpoint.CheckpointError` naming what is wrong."""
    directory = Path(directory)
    if not (directory / "config.json").is_file():
        raise CheckpointError(f"{directory}: not an affine-sr model folder (no config.json)")
    try:
        return _load(directory, device, prior)
    except CheckpointError:
        raise
    except (KeyError, TypeError, json.JSONDecodeError, SafetensorError, OSError) as err:
        what = f"missing config key {err}" if isinstance(err, KeyError) else str(err)
        raise CheckpointError(
            f"{directory}: not a complete affine-sr model folder ({what.splitlines()[0]}); "
            "save it again with `affine-sr train` or use --model default"
        ) from None
    except RuntimeError as err:  # load_state_dict: shapes that do not fit the config
        raise CheckpointError(
            f"{directory}: weights do not fit config.json ({str(err).splitlines()[0]})"
        ) from None


def _load(directory: Path, device: str, prior: str | None) -> AffineSR:
    import diffusers
    from safetensors.torch import load_file

    from app_toolkit.checkpoint import check_loaded

    config = json.loads((directory / "config.json").read_text())
    scheduler_class = getattr(diffusers, config["scheduler_class"], None)
    if scheduler_class is None:
        raise ValueError(f"{directory}: unknown scheduler class in config.json")
    prior = prior or config.get("prior")
    unet_dir = Path(prior) if prior else directory / "unet"
    unet = load_unet(unet_dir)
    check_loaded(unet.state_dict(), unet_dir)
    state = load_file(directory / "sft.safetensors")
    check_loaded(state, directory / "sft.safetensors")
    prompt_embeds = state.pop("prompt_embeds", None)
    if prompt_embeds is not None:
        prompt_embeds = prompt_embeds.float()
    model = AffineSR(
        CouplingAutoencoder.from_pretrained(directory / "autoencoder"),
        unet,
        TimeAwareEncoder.from_pretrained(directory / "encoder"),
        scheduler_class.from_pretrained(directory / "scheduler"),
        prompt_embeds,
        latent_scale=config.get("latent_scale", 1.0),
        prior=prior,
        residual=config.get("residual", False),
        residual_scale=config.get("residual_scale", 1.0),
        full_code=config.get("full_code", False),
    )
    model.sfts.load_state_dict(state)
    if (directory / "refiner" / "config.json").is_file():
        model.refiner = Refiner.from_pretrained(directory / "refiner")
    return model.to(device).eval()


def shipped_model() -> Path:
    """The folder of the default weights installed with the package."""
    return Path(__file__).parent / "pretrained" / "default"


def load_model(
    path: str | os.PathLike = "default", device: str = "cpu", prior: str | None = None
) -> AffineSR:
    """A model folder (``affine-sr train`` output or :meth:`AffineSR.save_pretrained`), or
    ``default``: the shipped weights (see their model card)."""
    path = shipped_model() if str(path) == "default" else Path(path)
    if not (path / "config.json").is_file() and (path / "model" / "config.json").is_file():
        path = path / "model"
    return AffineSR.from_pretrained(path, device, prior)


def load_unet(folder: Path) -> nn.Module:
    """A diffusers UNet (``UNet2DModel`` or ``UNet2DConditionModel``) from a local folder."""
    import diffusers

    config_file = folder / "config.json"
    if not config_file.is_file():
        raise ValueError(f"{folder}: not a diffusers UNet folder (no config.json)")
    name = json.loads(config_file.read_text()).get("_class_name", "UNet2DModel")
    unet_class = getattr(diffusers, name, None)
    if unet_class is None or not name.startswith("UNet2D"):
        raise ValueError(f"{folder}: {name} is not a diffusers 2-D UNet")
    # float32 whatever the stored precision (shipped weights are stored as float16)
    return unet_class.from_pretrained(folder, local_files_only=True, torch_dtype=torch.float32)
