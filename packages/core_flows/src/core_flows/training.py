"""Training and evaluation of flows by maximum likelihood (bits per dimension), under accelerate.

``accelerate launch core-flows train ...`` spreads the same loop over GPUs and machines; a plain
``core-flows train`` runs on one device. Checkpoints are ``save_pretrained`` folders plus the
optimiser state (loaded with ``weights_only=True``), so ``--resume`` continues where a run stopped.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from app_toolkit.devices import resolve_device
from app_toolkit.files import atomic_write, write_json
from app_toolkit.plots import plot_curves, save_grid
from core_flows.constants import LR_SCHEDULES, MODEL_DIR
from core_flows.data import ImageData, dequantize
from core_flows.models import MultiScaleFlow

__all__ = ["LR_SCHEDULES", "TrainConfig", "evaluate_bits_per_dim", "lr_factor", "train"]

log = logging.getLogger(__name__)

STATE_FILE = "trainer_state.pt"


@dataclass
class TrainConfig:
    """Options of :func:`train` (each one is a ``core-flows train`` flag)."""

    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    warmup_steps: int = 200
    # "constant" after the warm-up, or "cosine": decays to 0 at ``decay_steps`` (by default the
    # run's last step, from ``max_steps`` or ``epochs``)
    lr_schedule: str = "constant"
    decay_steps: int | None = None
    grad_clip: float = 10.0
    max_steps: int | None = None
    init_samples: int = 512
    eval_batch_size: int = 256
    sample_count: int = 64
    sample_temperature: float = 0.8
    eval_every: int = 1
    seed: int = 0
    device: str = "auto"
    progress: bool = True

    @classmethod
    def for_steps(cls, steps: int, train_images: int, batch_size: int, **kwargs) -> TrainConfig:
        """A config that stops after ``steps`` optimiser steps, evaluating about ten times."""
        epochs = -(-steps // max(1, train_images // batch_size))
        kwargs.setdefault("eval_every", max(1, epochs // 10))
        return cls(epochs=epochs, batch_size=batch_size, max_steps=steps, **kwargs)


def lr_factor(step: int, warmup_steps: int, schedule: str, decay_steps: int) -> float:
    """Multiplier of the base learning rate at optimiser step ``step`` (0-based): linear warm-up
    over ``warmup_steps``, then constant or a cosine that reaches 0 at ``decay_steps``."""
    factor = min(1.0, (step + 1) / max(1, warmup_steps))
    if schedule == "cosine":
        progress = min(1.0, step / max(1, decay_steps))
        factor *= 0.5 * (1.0 + math.cos(math.pi * progress))
    return factor


class _BitsPerDim(nn.Module):
    """The training loss as a module's forward, so DDP wrappers see the whole computation."""

    def __init__(self, flow: MultiScaleFlow):
        super().__init__()
        self.flow = flow

    def forward(self, x: Tensor) -> Tensor:
        return self.flow.bits_per_dim(x)


@torch.no_grad()
def evaluate_bits_per_dim(
    model: MultiScaleFlow,
    images: Tensor,
    num_levels: int,
    batch_size: int = 256,
    seed: int = 0,
    progress: bool = False,
) -> float:
    """Mean bits/dim of integer ``images`` ``[N, C, H, W]`` under ``model`` (dequantised with a
    fixed seed, so repeated evaluations agree)."""
    if len(images) == 0:
        raise ValueError("no images to evaluate")
    if batch_size < 1:
        raise ValueError(f"batch size must be >= 1, got {batch_size}")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    total = 0.0
    for start in tqdm(range(0, len(images), batch_size), disable=not progress, desc="evaluate"):
        batch = images[start : start + batch_size]
        x = dequantize(batch, num_levels, generator).to(device)
        total += model.bits_per_dim(x).double().sum().item()
    model.train(was_training)
    return total / len(images)


def _save_checkpoint(out_dir: Path, model, optimizer, scheduler, epoch, step, history) -> None:
    model.save_pretrained(out_dir / MODEL_DIR)
    state = {
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "epoch": epoch,
        "step": step,
        "history": json.dumps(history),
        "rng": torch.get_rng_state(),
    }
    atomic_write(out_dir / STATE_FILE, lambda p: torch.save(state, p))


def _load_checkpoint(out_dir: Path, model: MultiScaleFlow) -> dict:
    saved = MultiScaleFlow.from_pretrained(out_dir / MODEL_DIR)
    if saved.config != model.config:
        raise ValueError(
            f"cannot resume: the checkpoint in {out_dir} was trained with a different model "
            f"config ({saved.config} vs {model.config})"
        )
    model.load_state_dict(saved.state_dict())
    path = out_dir / STATE_FILE
    if not path.is_file():
        raise ValueError(f"cannot resume: {path} not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # any unreadable state file means the same to the user
        raise ValueError(f"cannot resume: {path} is corrupt ({err})") from None


def train(
    model: MultiScaleFlow,
    data: ImageData,
    out_dir: str | Path,
    config: TrainConfig | None = None,
    resume: bool = False,
) -> list[dict]:
    """Train ``model`` on ``data.train``; after each epoch evaluate on ``data.test``, write a sample
    grid, the loss plot, ``metrics.json`` and a checkpoint into ``out_dir``. Returns the history."""
    from accelerate import Accelerator

    config = config or TrainConfig()
    if config.lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {config.lr_schedule!r}")
    out_dir = Path(out_dir)
    if tuple(data.image_shape) != model.image_shape:
        raise ValueError(f"data images are {data.image_shape}, model expects {model.image_shape}")
    if data.num_levels != model.num_levels:
        raise ValueError(f"data has {data.num_levels} levels, model expects {model.num_levels}")
    if len(data.train) < config.batch_size:
        raise ValueError(
            f"batch size {config.batch_size} exceeds the {len(data.train)} training images"
        )
    torch.manual_seed(config.seed)
    accelerator = Accelerator(cpu=resolve_device(config.device).type == "cpu")
    main = accelerator.is_main_process
    state = _load_checkpoint(out_dir, model) if resume else None  # validate before writing
    if main:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_json(
            out_dir / "train_config.json",
            {"train": asdict(config), "model": model.config, "data": data.name},
        )
    model.to(accelerator.device)
    if state is None:
        init = data.train[torch.randperm(len(data.train))[: config.init_samples]]
        model.initialize(dequantize(init, data.num_levels).to(accelerator.device))

    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    steps_per_epoch = len(data.train) // config.batch_size
    decay = config.decay_steps or min(config.max_steps or math.inf, config.epochs * steps_per_epoch)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: lr_factor(s, config.warmup_steps, config.lr_schedule, int(decay)),
    )
    history: list[dict] = []
    start_epoch, step = 0, 0
    if state is not None:
        try:
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            start_epoch, step = state["epoch"], state["step"]
            history = json.loads(state["history"])
            torch.set_rng_state(state["rng"])  # dequantisation noise continues, not replays
        except (KeyError, ValueError, RuntimeError, TypeError) as err:
            raise ValueError(
                f"cannot resume: {out_dir / STATE_FILE} is incomplete ({err})"
            ) from None
        log.info("Resuming from epoch %d (step %d)", start_epoch, step)

    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(data.train),
        batch_size=config.batch_size,
        shuffle=True,
        drop_last=True,
        generator=torch.Generator().manual_seed(config.seed + start_epoch),
    )
    loss_module, optimizer, loader, scheduler = accelerator.prepare(
        _BitsPerDim(model), optimizer, loader, scheduler
    )
    bad_steps = 0
    for epoch in range(start_epoch, config.epochs):
        if config.max_steps is not None and step >= config.max_steps:
            break
        t0, total, count = time.perf_counter(), 0.0, 0
        bar = tqdm(
            loader,
            desc=f"epoch {epoch + 1}/{config.epochs}",
            disable=None if (config.progress and main) else True,
            leave=False,
        )
        for (batch,) in bar:
            x = dequantize(batch, data.num_levels).to(accelerator.device)
            loss = loss_module(x).mean()
            # Every rank must skip together: a rank that stepped alone would wait forever in
            # DDP's gradient all-reduce. One small all-reduce (a no-op on one process) decides.
            nonfinite = (~torch.isfinite(loss.detach())).float().reshape(1)
            if accelerator.reduce(nonfinite, reduction="sum").item() > 0:
                bad_steps += 1
                optimizer.zero_grad(set_to_none=True)
                if bad_steps > 10:
                    raise RuntimeError(
                        "training diverged (non-finite loss in 10 steps); lower --lr or raise "
                        "--warmup-steps"
                    )
                continue
            bad_steps = 0
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(loss_module.parameters(), config.grad_clip)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            total, count = total + loss.item(), count + 1
            bar.set_postfix(bpd=f"{total / count:.3f}")
            if config.max_steps is not None and step >= config.max_steps:
                break
        accelerator.wait_for_everyone()
        last = epoch + 1 == config.epochs or (
            config.max_steps is not None and step >= config.max_steps
        )
        if not main or ((epoch + 1) % config.eval_every and not last):
            continue
        flow = accelerator.unwrap_model(loss_module).flow
        test_bpd = evaluate_bits_per_dim(flow, data.test, data.num_levels, config.eval_batch_size)
        record = {
            "epoch": epoch + 1,
            "step": step,
            "train_bpd": total / max(count, 1),
            "test_bpd": test_bpd,
            "seconds": time.perf_counter() - t0,
        }
        history.append(record)
        log.info(
            "epoch %d  step %d  train %.4f  test %.4f bits/dim  (%.1f s)",
            record["epoch"],
            step,
            record["train_bpd"],
            test_bpd,
            record["seconds"],
        )
        samples = flow.sample(
            config.sample_count,
            config.sample_temperature,
            torch.Generator().manual_seed(config.seed),
        )
        save_grid(
            samples,
            out_dir / "samples" / f"epoch_{epoch + 1:03d}.png",
            nrow=int(math.sqrt(config.sample_count)),
            upscale=max(1, 64 // model.image_shape[1]),
        )
        epochs = [h["epoch"] for h in history]
        plot_curves(
            {name: (epochs, [h[f"{name}_bpd"] for h in history]) for name in ("train", "test")},
            out_dir / "bits_per_dim.png",
            xlabel="epoch",
            ylabel="bits / dim",
            title=f"{model.config['preset']} on {data.name}",
        )
        metrics = {"history": history, "test_bpd": test_bpd, "steps": step}
        write_json(out_dir / "metrics.json", metrics)
        _save_checkpoint(out_dir, flow, optimizer, scheduler, epoch + 1, step, history)
    return history
