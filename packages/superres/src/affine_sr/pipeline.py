"""The denoising loop (:func:`denoise`, what :meth:`AffineSR.upscale` runs), and images in,
images out around it: padding, tiling, seeding and colour fix, and the batch job over files and
folders (resumable: finished outputs are kept)."""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from affine_sr.color import color_fix
from affine_sr.constants import DEFAULTS, DEGRADATIONS, REAL_QUALITY
from affine_sr.data import to_tensor
from affine_sr.deblock import deblock, ijg_table, luminance_table, remove_noise
from affine_sr.model import AffineSR, _upscale
from affine_sr.refiner import Refiner
from affine_sr.tiling import tiled_apply

__all__ = [
    "DEFAULTS",
    "denoise",
    "estimate",
    "jpeg_table_for",
    "refined",
    "upscale_files",
    "upscale_image",
]

log = logging.getLogger("affine_sr")


@torch.no_grad()
def denoise(
    model: AffineSR,
    lr: torch.Tensor,
    scale: int = 4,
    steps: int = 50,
    fidelity: float = 0.5,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``lr [B, 3, h, w]`` in [-1, 1] → ``[B, 3, h·scale, w·scale]``; ``h·scale`` and ``w·scale``
    must be multiples of ``model.size_multiple``. The bicubic upscaled input is encoded once and
    conditions every step; the prior starts from noise and the scheduler walks ``steps`` steps;
    the result is decoded with ``fidelity ×`` the input's detail channels."""
    if not 0 <= fidelity <= 1:
        raise ValueError(f"fidelity must be in [0, 1], got {fidelity}")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    lr_code = model._encode(_upscale(lr, scale))
    scheduler = model.scheduler
    scheduler.set_timesteps(steps, device=lr.device)
    shape = model._generated(lr_code).shape
    z = torch.randn(shape, generator=generator, device=lr.device, dtype=lr.dtype)
    z = z * scheduler.init_noise_sigma
    for t in scheduler.timesteps:
        tt = t.expand(len(z)).to(lr.device)
        out = model._denoise(scheduler.scale_model_input(z, t), tt, lr_code)
        z = scheduler.step(out, t, z).prev_sample
    return model._decode(z, lr_code, fidelity).clamp(-1, 1)


def _to_uint8(image: torch.Tensor) -> np.ndarray:
    return ((image[0].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).cpu().numpy()


def upscale_image(
    model: AffineSR,
    image: np.ndarray,
    scale: int = 4,
    steps: int = DEFAULTS["steps"],
    fidelity: float = DEFAULTS["fidelity"],
    color: str = DEFAULTS["color"],
    tile: int = DEFAULTS["tile"],
    overlap: int = DEFAULTS["overlap"],
    seed: int = 0,
    refine: bool = True,
    jpeg_table: np.ndarray | None = None,
    clean_noise: bool = False,
) -> np.ndarray:
    """``uint8 [h, w, 3]`` → ``uint8 [h·scale, w·scale, 3]``. ``tile`` and ``overlap`` are in
    input pixels (0 disables tiling); tile ``k`` draws its noise from ``seed + k``, so a run
    repeats exactly. ``refine``: apply the model's refiner, if it has one for this scale.
    ``jpeg_table``: the ``[8, 8]`` luminance quantisation table of the JPEG the image was
    decoded from; the image is deblocked with it first (:func:`affine_sr.deblock.deblock`).
    ``clean_noise``: denoise it before that (:func:`affine_sr.deblock.remove_noise`)."""
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB image [H, W, 3], got shape {image.shape}")
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    if clean_noise:
        image = remove_noise(image)
    if jpeg_table is not None:
        image = deblock(image, jpeg_table)
    device = next(model.parameters()).device
    # output sides must be multiples of the model's size multiple: pad the input
    multiple = model.size_multiple // math.gcd(model.size_multiple, scale)
    h, w = image.shape[:2]
    lr = to_tensor(image)[None].to(device)
    pad_h, pad_w = -h % multiple, -w % multiple
    if pad_h or pad_w:
        lr = F.pad(lr, (0, pad_w, 0, pad_h), mode="replicate")
    if tile:
        tile += -tile % multiple
        overlap = min(overlap + -overlap % multiple, tile - multiple)
    out = estimate(model, lr, scale, steps, fidelity, color, tile, overlap, seed)
    if refine and model.refiner is not None:
        if model.refiner.scale == scale:
            out = refined(model.refiner, lr, out, tile, overlap)
        else:
            log.warning("the refiner is for ×%d, not ×%d: left out", model.refiner.scale, scale)
    return _to_uint8(out[..., : h * scale, : w * scale])


@torch.no_grad()
def estimate(
    model: AffineSR,
    lr: torch.Tensor,
    scale: int,
    steps: int,
    fidelity: float,
    color: str,
    tile: int = 0,
    overlap: int = 0,
    seed: int = 0,
) -> torch.Tensor:
    """The diffusion path's result for ``lr [B, 3, h, w]`` in [-1, 1] (sides fitting the model's
    size multiple), colour-fixed against the bicubic upscaled input: what the refiner corrects."""
    counter = iter(range(seed, seed + 10**9))

    def one_tile(piece: torch.Tensor) -> torch.Tensor:
        generator = torch.Generator(lr.device).manual_seed(next(counter))
        return model.upscale(piece, scale, steps, fidelity, generator)

    if tile and max(lr.shape[-2:]) > tile:
        out = tiled_apply(one_tile, lr, scale, tile, overlap)
    else:
        out = one_tile(lr)
    reference = F.interpolate(lr, scale_factor=scale, mode="bicubic", align_corners=False)
    return color_fix(out, reference.clamp(-1, 1), color)


@torch.no_grad()
def refined(
    refiner: Refiner, lr: torch.Tensor, out: torch.Tensor, tile: int = 0, overlap: int = 0
) -> torch.Tensor:
    """``refiner(lr, out)``, tile by tile when ``tile`` (input pixels) is smaller than the image."""
    s = refiner.scale
    if not tile or max(lr.shape[-2:]) <= tile:
        return refiner(lr, out).clamp(-1, 1)
    # the tiles cut the input and the estimate together: the estimate space-to-depth at LR size
    joint = torch.cat([lr, F.pixel_unshuffle(out, s)], 1)

    def one_tile(piece: torch.Tensor) -> torch.Tensor:
        return refiner(piece[:, :3], F.pixel_shuffle(piece[:, 3:], s))

    return tiled_apply(one_tile, joint, s, tile, overlap).clamp(-1, 1)


def upscale_files(
    model: AffineSR,
    inputs: list[str | os.PathLike],
    out_dir: str | os.PathLike,
    overwrite: bool = False,
    progress: bool = True,
    suffix: str = ".png",
    desc: str = "upscale",
    process=None,
    degradation: str = "clean",
    **options,
) -> dict[str, list]:
    """Upscale every image in ``inputs`` (files, folders searched recursively, globs) into
    ``out_dir`` as ``<name>.png`` (folder structure kept). The output folder records what made its
    outputs (:class:`~app_toolkit.manifest.RunManifest`): a rerun with the same model and options
    skips finished outputs of unchanged inputs, so an interrupted batch resumes; one with another
    model or options is refused unless ``overwrite`` (then all is redone). Unreadable and
    non-image files are listed in ``failed`` and left out.
    ``options`` go to :func:`upscale_image`; ``process(image) -> image``, when given, replaces
    it (another model family in the same batch job); a ``process`` that returns ``(image, info)``
    also gets ``info`` written as JSON beside the output (``<name>.json``). ``degradation``
    (:data:`~affine_sr.constants.DEGRADATIONS`) says which inputs are deblocked first
    (:func:`jpeg_table_for`), and, under "real", denoised before; "clean" by default here (and
    ignored with ``process``), "auto" on the command line. Returns ``{"written", "skipped", "failed"}``."""
    if degradation not in DEGRADATIONS:
        raise ValueError(
            f"degradation must be one of {', '.join(DEGRADATIONS)}, got {degradation!r}"
        )
    from tqdm.auto import tqdm

    from app_toolkit.files import check_output_dir, write_json
    from app_toolkit.manifest import RunManifest, module_fingerprint
    from app_toolkit.media import MediaError, discover, read_image, write_image

    out_dir = Path(out_dir)
    check_output_dir(out_dir, inputs)
    found = discover([str(i) for i in inputs])
    report: dict[str, list] = {"written": [], "skipped": [], "failed": []}
    report["failed"] = [str(item.path) for item in found if item.kind != "image"]
    items = [item for item in found if item.kind == "image"]
    if not items:
        raise ValueError("no images found in " + ", ".join(map(str, inputs)))
    tables = (
        {} if process else {item.path: jpeg_table_for(item.path, degradation) for item in items}
    )
    settings = {"model": module_fingerprint(model), "suffix": suffix, **options}
    if not process and (
        degradation == "real"
        or any(table is not None for table in tables.values())
        or not _recorded_before_degradation(out_dir)
    ):  # a run recorded before the option existed resumes where the option changes nothing
        settings["degradation"] = degradation
    manifest = RunManifest(out_dir, settings, overwrite=overwrite)
    try:  # an interrupted run keeps the record of what it finished
        for item in tqdm(items, desc=desc, unit="image", disable=not progress):
            target = (out_dir / item.rel).with_suffix(suffix)
            if manifest.done(target, item.path):
                report["skipped"].append(str(target))
                continue
            try:
                image, _ = read_image(item.path)
                if process:
                    result = process(image)
                else:
                    table, noisy = tables[item.path], degradation == "real"
                    result = upscale_image(
                        model, image, jpeg_table=table, clean_noise=noisy, **options
                    )
            except MediaError as err:
                log.warning("skipped %s: %s", item.path, err)
                report["failed"].append(str(item.path))
                continue
            if isinstance(result, tuple):
                result, info = result
                write_json(target.with_suffix(".json"), info)
            write_image(target, result)
            manifest.record(target, item.path)
            report["written"].append(str(target))
    finally:
        manifest.save()
    return report


def _recorded_before_degradation(out_dir: Path) -> bool:
    """Whether ``out_dir`` holds a run recorded without the ``degradation`` setting."""
    import json

    from app_toolkit.manifest import MANIFEST_NAME

    try:
        settings = json.loads((out_dir / MANIFEST_NAME).read_text())["settings"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return isinstance(settings, dict) and "degradation" not in settings


def jpeg_table_for(path: str | os.PathLike, degradation: str) -> np.ndarray | None:
    """The quantisation table to deblock the image at ``path`` with: under ``auto`` and
    ``real``, a JPEG file's own; under ``real``, that of quality ``REAL_QUALITY`` for other
    files; under ``clean``, none."""
    if degradation == "clean":
        return None
    table = luminance_table(path)
    if table is None and degradation == "real":
        table = ijg_table(REAL_QUALITY)
    return table
