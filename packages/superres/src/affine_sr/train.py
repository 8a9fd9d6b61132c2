"""The three training stages, under ``accelerate`` (CPU, one GPU or several, mixed precision by its
config).

1. The autoencoder: an HR image must come back from its latent alone (the prior's path at
   fidelity 0), and from its latent with the bicubic-upscaled LR image's detail channels (the path
   at fidelity 1), so the latent learns to carry what bicubic upscaling loses; a small penalty
   keeps the detail channels quiet.
2. The prior and its conditioning with the autoencoder fixed: the scheduler's target for noisy HR
   latents given the LR image (:meth:`AffineSR.training_loss`); a frozen external prior keeps its
   weights and only the time-aware encoder and the SFT layers learn.
3. The refiner with the rest fixed: L1 between the HR image and the refined one-step estimate
   (:mod:`affine_sr.refiner`), the estimate made on the fly as `affine-sr upscale` makes it.

Each stage writes its model folder every ``save_every`` steps and at the end, with a state file
(optimiser, step, loss history) that ``resume`` continues from.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader

from affine_sr.autoencoder import CouplingAutoencoder
from affine_sr.data import PairedCrops
from affine_sr.model import AffineSR, _upscale

__all__ = [
    "autoencoder_loss",
    "check_new_run",
    "set_latent_scales",
    "train_autoencoder",
    "train_prior",
    "train_refiner",
]

log = logging.getLogger("affine_sr")
STATE_FILE = "training_state.pt"


def check_new_run(
    out_dir: str | os.PathLike, resume: bool, folders: list[str] | None = None
) -> None:
    """Refuse, before any work, an output folder that holds a run, unless resuming it; with
    ``folders``, only a run in those subfolders counts (the stages about to run)."""
    roots = [Path(out_dir) / f for f in folders] if folders is not None else [Path(out_dir)]
    if not resume and any(any(root.rglob(STATE_FILE)) for root in roots):
        raise ValueError(f"{out_dir} holds a run already; pass --resume or choose another --out")


def autoencoder_loss(
    ae: CouplingAutoencoder, hr: Tensor, lr: Tensor, scale: int, detail_weight: float = 0.01
) -> Tensor:
    latent, detail = ae.encode(hr)
    _, lr_detail = ae.encode(_upscale(lr, scale))
    alone = F.mse_loss(ae.decode(latent), hr)
    with_lr_detail = F.mse_loss(ae.decode(latent, lr_detail), hr)
    return alone + with_lr_detail + detail_weight * detail.pow(2).mean()


@torch.no_grad()
def set_latent_scales(model: AffineSR, loader: DataLoader, scale: int, batches: int = 8) -> None:
    """Scale latents (and, for a residual prior, HR - LR residuals) to unit variance, so the
    prior's noise schedule fits them (the role of SD's 0.18215)."""
    device = next(model.parameters()).device
    pairs = [(hr.to(device), lr.to(device)) for (hr, lr), _ in zip(loader, range(batches))]
    model.latent_scale = model.residual_scale = 1.0
    latents = torch.cat([model.autoencoder.encode(hr)[0].flatten() for hr, _ in pairs])
    model.latent_scale = float(1 / latents.std().clamp_min(1e-6))
    if model.residual:
        x0 = torch.cat([model.diffusion_pair(hr, lr, scale)[0].flatten() for hr, lr in pairs])
        model.residual_scale = float(1 / x0.std().clamp_min(1e-6))


def _run(
    module: nn.Module,
    parameters: list[nn.Parameter],
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    dataset: PairedCrops,
    steps: int,
    out_dir: Path,
    save: Callable[[Path], object],
    batch_size: int,
    learning_rate: float,
    device: str,
    save_every: int,
    resume: bool,
    progress: bool,
    desc: str,
) -> list[dict]:
    """The shared loop: Adam with cosine decay, gradient clipping, checkpoints, resume."""
    from accelerate import Accelerator
    from tqdm.auto import tqdm

    from app_toolkit.files import atomic_write, write_json
    from app_toolkit.training import check_finite_loss, checkpoint_on_interrupt

    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch size must be >= 1, got {steps} and {batch_size}")
    state_path = out_dir / STATE_FILE
    if state_path.exists() and not resume:
        raise ValueError(f"{out_dir} holds a run already; pass --resume or choose another --out")
    accelerator = Accelerator(cpu=device == "cpu")
    optimizer = torch.optim.AdamW(parameters, learning_rate, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps, learning_rate * 0.05)
    step, history = 0, []
    if resume and state_path.exists():
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        module.load_state_dict(state["module"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        step, history = state["step"], [dict(zip(("step", "loss"), h)) for h in state["history"]]
        log.info("resuming %s at step %d", desc, step)
    loader = DataLoader(dataset, batch_size, shuffle=False, num_workers=0, drop_last=True)
    module, optimizer, loader = accelerator.prepare(module, optimizer, loader)

    def checkpoint() -> None:
        if not accelerator.is_main_process:
            return
        save(out_dir)
        state = {
            "module": accelerator.unwrap_model(module).state_dict(),
            "optimizer": optimizer.state_dict(),
            "schedule": schedule.state_dict(),
            "step": step,
            "history": [[h["step"], h["loss"]] for h in history],
        }
        atomic_write(state_path, lambda p: torch.save(state, p))
        write_json(out_dir / "history.json", history)

    bar = tqdm(total=steps, initial=step, desc=desc, disable=not progress)
    running = None
    module.train()
    with checkpoint_on_interrupt(checkpoint, desc):
        while step < steps:
            dataset.epoch = step  # new crops each pass, reproducibly
            for hr, lr in loader:
                loss = loss_fn(hr, lr)
                check_finite_loss(loss, step + 1, desc)
                optimizer.zero_grad(set_to_none=True)
                accelerator.backward(loss)
                accelerator.clip_grad_norm_(parameters, 1.0)
                optimizer.step()
                schedule.step()
                step += 1
                value = loss.item()
                running = value if running is None else 0.98 * running + 0.02 * value
                bar.update(1)
                bar.set_postfix(loss=f"{running:.4f}")
                if step % 50 == 0 or step == steps:
                    history.append({"step": step, "loss": running})
                if step % save_every == 0 or step == steps:
                    checkpoint()
                if step >= steps:
                    break
    bar.close()
    module.eval()
    return history


def train_autoencoder(
    ae: CouplingAutoencoder,
    dataset: PairedCrops,
    out_dir: str | os.PathLike,
    steps: int = 2000,
    batch_size: int = 16,
    learning_rate: float = 1e-3,
    detail_weight: float = 0.01,
    device: str = "cpu",
    save_every: int = 500,
    resume: bool = False,
    progress: bool = True,
) -> list[dict]:
    """Stage 1; the autoencoder is saved to ``out_dir`` (``CouplingAutoencoder`` folder)."""
    out_dir = Path(out_dir)

    def loss_fn(hr: Tensor, lr: Tensor) -> Tensor:
        return autoencoder_loss(ae, hr, lr, dataset.scale, detail_weight)

    return _run(
        ae,
        list(ae.parameters()),
        loss_fn,
        dataset,
        steps,
        out_dir,
        ae.save_pretrained,
        batch_size,
        learning_rate,
        device,
        save_every,
        resume,
        progress,
        "autoencoder",
    )


def train_prior(
    model: AffineSR,
    dataset: PairedCrops,
    out_dir: str | os.PathLike,
    steps: int = 4000,
    batch_size: int = 16,
    learning_rate: float = 3e-4,
    device: str = "cpu",
    save_every: int = 500,
    resume: bool = False,
    progress: bool = True,
    pixel_weight: float = 0.0,
    last_step_share: float = 0.0,
) -> list[dict]:
    """Stage 2; the whole model is saved to ``out_dir`` (:meth:`AffineSR.save_pretrained`).
    ``pixel_weight``, ``last_step_share``: see :meth:`AffineSR.training_loss`."""
    out_dir = Path(out_dir)
    model.autoencoder.requires_grad_(False)

    def loss_fn(hr: Tensor, lr: Tensor) -> Tensor:
        return model.training_loss(hr, lr, dataset.scale, pixel_weight, last_step_share)

    return _run(
        model,
        model.trainable_parameters(),
        loss_fn,
        dataset,
        steps,
        out_dir,
        model.save_pretrained,
        batch_size,
        learning_rate,
        device,
        save_every,
        resume,
        progress,
        "prior",
    )


def train_refiner(
    model: AffineSR,
    dataset: PairedCrops,
    out_dir: str | os.PathLike,
    steps: int = 2000,
    batch_size: int = 16,
    learning_rate: float = 1e-3,
    device: str = "cpu",
    save_every: int = 500,
    resume: bool = False,
    progress: bool = True,
    width: int = 48,
    blocks: int = 6,
    state_dir: str | os.PathLike | None = None,
) -> list[dict]:
    """Stage 3: gives ``model`` a new :class:`~affine_sr.refiner.Refiner` (unless it has one of
    this scale, which then goes on learning) and trains it on the colour-fixed one-step estimate
    of the fixed model; the whole model is saved to ``out_dir``, the training state and history
    to ``state_dir`` (default: ``refiner_run`` beside ``out_dir``)."""
    from affine_sr.pipeline import DEFAULTS, estimate
    from affine_sr.refiner import Refiner

    out_dir = Path(out_dir)
    state_dir = Path(state_dir) if state_dir is not None else out_dir.parent / "refiner_run"
    if model.refiner is None or model.refiner.scale != dataset.scale:
        model.refiner = Refiner(dataset.scale, width, blocks)
    model.to(device)
    model.eval().requires_grad_(False)
    model.refiner.requires_grad_(True)
    seeds = iter(range(10**9))

    def loss_fn(hr: Tensor, lr: Tensor) -> Tensor:
        guess = estimate(model, lr, dataset.scale, 1, 1.0, DEFAULTS["color"], seed=next(seeds))
        return F.l1_loss(model.refiner(lr, guess), hr)

    return _run(
        model.refiner,
        list(model.refiner.parameters()),
        loss_fn,
        dataset,
        steps,
        state_dir,
        lambda _: model.save_pretrained(out_dir),
        batch_size,
        learning_rate,
        device,
        save_every,
        resume,
        progress,
        "refiner",
    )
