"""Recipe for art_restore's water-stain model (``pretrained/default/stains``).

A :class:`art_restore.stains.StainNet` learns the two fields of the damage generator's water
stains (opacity towards brown and tide-line darkening, :func:`art_restore.degrade.water_stain`)
from 128-px crops of the built-in training images (the held-out ones excluded), one in five left
clean so that clean paint maps to no stain; binary cross-entropy on each field. Then, on fresh
crops of the same images at severity 0.5, it prints what dividing the predicted stain out gains
on stained crops and changes on clean ones, and the tide-line statistic the expert's check reads
(:func:`art_restore.stains.tide_share`). About fifteen minutes on two CPU threads:

    .venv/bin/python tools/train_stain_model.py
    .venv/bin/python tools/train_stain_model.py --heldout   # the shipped model, held-out images
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from affine_sr.metrics import psnr
from art_restore.degrade import apply, water_stain
from art_restore.stains import StainNet, remove_stains, tide_share

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_damage_detector import TARGET, random_crop, retone, training_images  # noqa: E402


def stained(image: np.ndarray, severity: float, rng: np.random.Generator):
    """``degrade.apply(image, "water_damage", severity)`` and the stain's two fields (its
    extent and tide line in [0, 1], the training targets), drawn from the same seed."""
    seed = int(rng.integers(2**32))
    fields = np.stack(water_stain(image.shape[:2], severity, np.random.default_rng(seed)))
    return apply(image, "water_damage", severity, np.random.default_rng(seed)), fields


def batch(images, rng, size: int, count: int):
    inputs, targets = [], []
    for _ in range(count):
        crop = random_crop(images[int(rng.integers(len(images)))], rng)
        crop = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
        if rng.random() < 0.3:
            crop = retone(crop, rng)
        if rng.random() < 0.2:
            image, fields = crop, np.zeros((2, size, size), np.float32)
        else:
            image, fields = stained(crop, float(rng.uniform(0.2, 1.0)), rng)
        inputs.append(image)
        targets.append(fields)
    x = torch.from_numpy(np.stack(inputs)).permute(0, 3, 1, 2).float() / 255
    return x, torch.from_numpy(np.stack(targets))


def check(net: StainNet, images, seed: int, crops: int = 3) -> None:
    """Gains on stained and changes on clean 256-px crops of the training images (fresh draws)."""
    rng = np.random.default_rng(seed + 1)
    gains, clean_psnr, tide_stained, tide_clean = [], [], [], []
    for image in images:
        for _ in range(crops):
            crop = cv2.resize(random_crop(image, rng), (256, 256), interpolation=cv2.INTER_AREA)
            damaged, _ = stained(crop, 0.5, rng)
            out, _, d = remove_stains(net, damaged)
            gains.append(psnr(out, crop, False) - psnr(damaged, crop, False))
            tide_stained.append(tide_share(d))
            out, _, d = remove_stains(net, crop)
            clean_psnr.append(psnr(out, crop, False))
            tide_clean.append(tide_share(d))
    q = [0.1, 0.5, 0.9]
    print(f"stained crops (severity 0.5): gain quantiles {np.round(np.quantile(gains, q), 2)} dB")
    print(f"clean crops: PSNR after quantiles {np.round(np.quantile(clean_psnr, q), 2)} dB")
    print(f"tide share stained {np.round(np.quantile(tide_stained, q), 4)}")
    print(f"tide share clean   {np.round(np.quantile(tide_clean, [0.5, 0.9, 0.99]), 4)}")


def heldout(net: StainNet) -> None:
    """What dividing the predicted stain out gains on the held-out artworks (whole) and 256-px
    crops of the held-out photographs, stained at severity 0.5, as if the detector had found
    every stain; and how many pass the expert's tide-line check."""
    from affine_sr.data import heldout_images
    from art_restore.artworks import artworks
    from art_restore.detect import centre
    from art_restore.experts import TIDE_EVIDENCE

    images = {f"art_{n}": im for n, im in artworks(held_out=True).items()}
    images.update({f"photo_{n}": centre(im, 256) for n, im in heldout_images().items()})
    gains, passed = [], 0
    for j, (name, clean) in enumerate(images.items()):
        damaged = apply(clean, "water_damage", 0.5, np.random.default_rng((0, j)))
        out, _, tide = remove_stains(net, damaged)
        gains.append(psnr(out, clean, False) - psnr(damaged, clean, False))
        passed += tide_share(tide) >= TIDE_EVIDENCE
        print(f"{name:20s} {gains[-1]:+.2f} dB  tide share {tide_share(tide):.4f}")
    print(
        f"held-out: mean {np.mean(gains):+.2f} dB, worst {min(gains):+.2f}; check passes {passed}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--size", type=int, default=128, help="crop side in pixels")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", type=Path, default=TARGET / "stains")
    parser.add_argument(
        "--heldout", action="store_true", help="only print the held-out figures of --target"
    )
    args = parser.parse_args()
    if args.heldout:
        heldout(StainNet.load(args.target))
        return 0
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    images = list(training_images(args.seed).values())
    net = StainNet()
    optimiser = torch.optim.AdamW(net.parameters(), args.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, args.steps)
    for _ in (bar := tqdm(range(args.steps), desc="train")):
        x, target = batch(images, rng, args.size, args.batch_size)
        loss = F.binary_cross_entropy(net(x).clamp(1e-5, 1 - 1e-5), target)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        bar.set_postfix(loss=f"{loss.item():.4f}")
    net.eval()
    net.half().save_pretrained(args.target)
    net = StainNet.load(args.target)
    check(net, images, args.seed)
    print(f"saved {args.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
