"""Training of the residual restorer on a CPU: endless damaged patches drawn on the fly from a
few clean images, and a loop that checkpoints, resumes and stops cleanly."""

from __future__ import annotations

import csv
import logging
import math
import os
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import IterableDataset

from app_toolkit.training import check_finite_loss, checkpoint_on_interrupt
from art_restore.degrade import compose, random_recipe
from art_restore.residual import ResidualRestorer, image_stats

__all__ = ["DamagedPatches", "train_restorer"]

log = logging.getLogger("art_restore")

STATE = "training_state.pt"


class DamagedPatches(IterableDataset):
    """Endless ``(damaged, clean, masks, stats)`` float patches (``[3, crop, crop]`` in [0, 1],
    ``[len(FAMILIES), crop, crop]`` and the :func:`image_stats` of the whole damaged region).

    Each draw takes a ``source``-pixel region of a random image (rescaled by 0.5-1, flipped,
    turned), damages it with a mix of 1 to ``max_kinds`` kinds (a ``clean`` share left as is, so
    the restorer learns to leave good areas alone) and cuts ``per_source`` patches from it: the
    damage is drawn at a size where stains and streaks have their usual scale, and its cost is
    shared by several patches."""

    def __init__(
        self,
        images: list[np.ndarray],
        crop: int = 64,
        source: int = 192,
        clean: float = 0.15,
        max_kinds: int = 3,
        per_source: int = 4,
        seed: int = 0,
    ):
        if not images:
            raise ValueError("no training images")
        if crop < 16 or source < crop:
            raise ValueError(f"need 16 <= crop <= source, got crop {crop}, source {source}")
        small = [im.shape[:2] for im in images if min(im.shape[:2]) < crop]
        if small:
            raise ValueError(f"{len(small)} training images are smaller than the {crop} px crop")
        self.images, self.crop, self.source = images, crop, source
        self.clean, self.max_kinds, self.per_source, self.seed = clean, max_kinds, per_source, seed

    def _region(self, rng: np.random.Generator) -> np.ndarray:
        image = self.images[int(rng.integers(len(self.images)))]
        h, w = image.shape[:2]
        zoom = max(rng.uniform(0.5, 1.0), self.crop / min(h, w))
        side = min(int(self.source / zoom), h, w)
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        region = image[y : y + side, x : x + side]
        out = max(self.crop, min(self.source, round(side * zoom)))
        region = cv2.resize(region, (out, out), interpolation=cv2.INTER_AREA)
        if rng.random() < 0.5:
            region = region[:, ::-1]
        return np.ascontiguousarray(np.rot90(region, int(rng.integers(4))))

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        rng = np.random.default_rng((self.seed, info.id if info else 0))
        while True:
            clean = self._region(rng)
            if rng.random() < self.clean:
                damaged, masks = clean, np.zeros((5, *clean.shape[:2]), bool)
            else:
                damaged, masks = compose(clean, random_recipe(rng, self.max_kinds), rng, True)
            side = clean.shape[0]
            stats = image_stats(torch.from_numpy(damaged.transpose(2, 0, 1) / 255)[None])[0]
            for _ in range(self.per_source):
                y, x = rng.integers(0, side - self.crop + 1, 2)
                window = np.s_[y : y + self.crop, x : x + self.crop]
                yield (
                    torch.from_numpy(damaged[window].transpose(2, 0, 1) / 255).float(),
                    torch.from_numpy(clean[window].transpose(2, 0, 1) / 255).float(),
                    torch.from_numpy(masks[(slice(None), *window)]).float(),
                    stats.float(),
                )


def train_restorer(
    model: ResidualRestorer,
    dataset: DamagedPatches,
    out_dir: str | os.PathLike,
    steps: int = 2000,
    batch_size: int = 16,
    learning_rate: float = 5e-4,
    map_weight: float = 0.2,
    device: str = "cpu",
    save_every: int = 250,
    resume: bool = False,
    progress: bool = True,
) -> ResidualRestorer:
    """L1 between the restored and the clean patch, plus ``map_weight`` × the damage map's
    binary cross-entropy against the generator's masks; AdamW with a cosine schedule. Writes
    ``out_dir/model`` (save_pretrained), ``out_dir/training_state.pt`` (for ``resume``) and
    ``out_dir/log.csv`` (``input_l1``: the loss of returning the input, the bar to beat); returns
    the trained model."""
    from tqdm.auto import tqdm

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = model.to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), learning_rate, weight_decay=1e-4)

    def rate(step: int) -> float:  # warm-up, then cosine down to 1% of the peak
        if step < 100:
            return (step + 1) / 100
        return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(1.0, step / max(1, steps))))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    step, seconds = 0, 0.0
    if resume and (out_dir / STATE).is_file():
        state = torch.load(out_dir / STATE, map_location=device, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        step, seconds = int(state["step"]), float(state["seconds"])
        log.info("resumed at step %d", step)

    def save() -> None:
        model.save_pretrained(out_dir / "model")
        state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                 "schedule": schedule.state_dict(), "step": step, "seconds": seconds}  # fmt: skip
        torch.save(state, out_dir / f"{STATE}.tmp")
        os.replace(out_dir / f"{STATE}.tmp", out_dir / STATE)

    loader = iter(torch.utils.data.DataLoader(dataset, batch_size))
    log_path = out_dir / "log.csv"
    new_log = not (resume and log_path.is_file())
    with open(log_path, "w" if new_log else "a", newline="") as handle:
        writer = csv.writer(handle)
        if new_log:
            writer.writerow(["step", "loss", "l1", "map_bce", "input_l1", "seconds"])
        bar = tqdm(total=steps, initial=step, desc="train", unit="step", disable=not progress)
        with checkpoint_on_interrupt(save, "art-restore train"):
            while step < steps:
                start = time.perf_counter()
                damaged, clean, masks, stats = (t.to(device) for t in next(loader))
                restored, logits = model(damaged, stats)
                l1 = F.l1_loss(restored, clean)
                bce = F.binary_cross_entropy_with_logits(logits, masks)
                loss = l1 + map_weight * bce
                check_finite_loss(loss, step, "art-restore train")
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                step += 1
                seconds += time.perf_counter() - start
                floor = F.l1_loss(damaged, clean).item()  # what returning the input scores
                writer.writerow([step, f"{loss.item():.5f}", f"{l1.item():.5f}",
                                 f"{bce.item():.5f}", f"{floor:.5f}", f"{seconds:.1f}"])  # fmt: skip
                bar.set_postfix(l1=f"{l1.item():.4f}")
                bar.update()
                if step % save_every == 0 or step == steps:
                    handle.flush()
                    save()
        bar.close()
    return model.eval()
