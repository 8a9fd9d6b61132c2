"""How two of art_restore's checks were set: when dullness is undone, and when stains are.

``dull`` (``art_restore.experts.remove_dullness``, ``DULL_MIN``, ``COLOUR_MIN``): on random crops of the training images (three per image, the held-out images excluded), each
clean, re-toned twice (another exposure, gamma, contrast, saturation or high key: still clean)
and damaged once by every kind at a random severity: the dulling measured
(:func:`art_restore.detect.dull_strength`), how often the expert would act at each minimum
(``DULL_MIN``, up to ``DULL_MAX``, on images colourful enough: ``COLOUR_MIN``), and what undoing the measured
dulling gains over the damaged crop where it acts. Prints one row per candidate minimum; the
row of the shipped constants is marked.

``stains`` (``STAIN_EVIDENCE`` with ``TIDE_EVIDENCE``): on two crops per training image, clean,
re-toned, stained twice, dulled, faded and blurred, the detector's probability of stains and the
stain model's tide line; for each pair of minimums, on how many crops of each kind the stain
removal would run and what it gains there.

About one minute each on two CPU cores:

    .venv/bin/python tools/tune_expert_checks.py dull
    .venv/bin/python tools/tune_expert_checks.py stains
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from train_damage_detector import random_crop, retone, training_images

from affine_sr.metrics import psnr
from art_restore.degrade import DEGRADATIONS, apply, undull
from art_restore.detect import dull_strength
from art_restore.experts import (
    COLOUR_MIN,
    DULL_MAX,
    DULL_MIN,
    NOT_DULL,
    STAIN_EVIDENCE,
    TIDE_EVIDENCE,
    colourfulness,
)
from art_restore.restorer import load_restorer
from art_restore.stains import remove_stains, tide_share

# (minimum dulling, minimum saturation): 99% of pixels' saturation (max − min of RGB, 0..1)
CANDIDATES = [(m, s) for s in (0.05, 0.1, 0.15) for m in (0.25, 0.3, 0.4)]


def measure(crops_per_image: int, seed: int) -> list[tuple[str, float, float, float]]:
    """(kind or "clean", measured dulling, saturation, gain in dB of undoing it) per crop."""
    rng = np.random.default_rng(seed)
    rows = []
    for image in training_images(0).values():
        for _ in range(crops_per_image):
            crop = random_crop(image, rng)
            cases = [("clean", im, None) for im in (crop, retone(crop, rng), retone(crop, rng))]
            for kind in DEGRADATIONS:
                cases.append((kind, apply(crop, kind, float(rng.uniform(0.2, 1)), rng), crop))
            for kind, damaged, reference in cases:
                a = dull_strength(damaged)
                saturation = colourfulness(damaged)
                gain = np.nan
                if reference is not None and a > 0:
                    undone = np.clip(undull(damaged.astype(np.float32), a), 0, 255)
                    undone = undone.round().astype(np.uint8)
                    gain = psnr(undone, reference, False) - psnr(damaged, reference, False)
                rows.append((kind, a, saturation, gain))
    return rows


def report(rows) -> None:
    kinds = sorted({r[0] for r in rows})
    for dull_min, saturation_min in CANDIDATES:
        acts = {k: [] for k in kinds}
        for kind, a, saturation, gain in rows:
            acts[kind].append((dull_min <= a <= DULL_MAX and saturation >= saturation_min, gain))
        shipped = " (shipped)" if (dull_min, saturation_min) == (DULL_MIN, COLOUR_MIN) else ""
        clean = np.mean([act for act, _ in acts["clean"]])
        dull = [g for act, g in acts["dull"] if act]
        worst = min(dull) if dull else float("nan")
        print(f"dulling ≥ {dull_min}, saturation ≥ {saturation_min}{shipped}: acts on {clean:.1%} of "
              f"{len(acts['clean'])} clean crops, {len(dull) / len(acts['dull']):.0%} of dulled "
              f"ones (median gain {np.median(dull) if dull else float('nan'):+.1f} dB, worst "
              f"{worst:+.1f})")  # fmt: skip
        others = {k: sum(act for act, _ in v) for k, v in acts.items()
                  if k not in ("clean", "dull") and k not in NOT_DULL}  # fmt: skip
        print("   other kinds it would act on (those not excluded by NOT_DULL):", others)
    wrong = [(round(a, 2), round(s, 2)) for kind, a, s, _ in rows
             if kind == "clean" and DULL_MIN <= a <= DULL_MAX and s >= COLOUR_MIN]  # fmt: skip
    print("clean crops the shipped expert acts on (dulling, saturation):", sorted(wrong))
    measured = np.array([a for kind, a, _, _ in rows if kind == "dull"])
    print(f"dulled crops measuring 0.2 or more: {np.mean(measured >= 0.2):.0%}")


def stains(seed: int) -> None:
    model = load_restorer("default")
    rng = np.random.default_rng(seed)
    rows = []
    for image in training_images(0).values():
        for _ in range(2):
            crop = random_crop(image, rng)
            cases = [("clean", crop), ("clean", retone(crop, rng))]
            for kind in ("water_damage", "water_damage", "dull", "fade", "blur"):
                cases.append((kind, apply(crop, kind, float(rng.uniform(0.2, 1)), rng)))
            for kind, damaged in cases:
                evidence = model.detector.evidence(damaged)["water_damage"]
                out, _, tide = remove_stains(model.stains, damaged)
                gain = psnr(out, crop, False) - psnr(damaged, crop, False)
                rows.append((kind, evidence, tide_share(tide), gain))
    print(f"{len(rows)} crops; the detector's own threshold for stains: "
          f"{model.detector.thresholds[model.detector.kinds.index('water_damage')]:.4f}")  # fmt: skip
    for evidence_min in (0.05, 0.2, STAIN_EVIDENCE, 0.9):
        for tide_min in (TIDE_EVIDENCE, 0.02):
            shipped = (evidence_min, tide_min) == (STAIN_EVIDENCE, TIDE_EVIDENCE)
            line = []
            for kind in ("clean", "water_damage", "dull", "fade", "blur"):
                gains = [
                    g for k, e, t, g in rows if k == kind and e >= evidence_min and t >= tide_min
                ]
                total = sum(k == kind for k, *_ in rows)
                line.append(f"{kind} {len(gains)}/{total}"
                            + (f" (median {np.median(gains):+.1f}, worst {min(gains):+.1f} dB)" if gains else ""))  # fmt: skip
            print(f"evidence ≥ {evidence_min}, tide ≥ {tide_min}{' (shipped)' if shipped else ''}: "
                  + "; ".join(line))  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("check", choices=("dull", "stains"))
    parser.add_argument("--crops", type=int, default=3, help="crops per training image (dull)")
    parser.add_argument("--seed", type=int, default=None, help="default: 7 (dull), 3 (stains)")
    args = parser.parse_args()
    if args.check == "dull":
        report(measure(args.crops, 7 if args.seed is None else args.seed))
    else:
        stains(3 if args.seed is None else args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
