"""Recipe for the restorer shipped in art_restore's package data (``pretrained/default``).

Trains the residual restorer on the built-in training artworks (stylised sample photographs, the
held-out ones excluded, and procedural brush paintings) with random mixes of damage, using the
command a user would type; stores it in half precision as the shipped model; then scores every
kind of damage and a clean input on the held-out artworks against the classical baselines and
writes the model card (figures taken from this run, with the shipped half-precision weights):

    .venv/bin/python tools/train_default_restorer.py

An interrupted run continues where it stopped when started again.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "apps" / "art_restore" / "src" / "art_restore" / "pretrained" / "default"
BIN = Path(sys.executable).parent

CARD = """# art-restore default restorer

A two-stage residual restorer ({params:,} parameters, U-Net widths {widths} at half resolution,
float16 on disk). A tone stage applies a per-image colour transform (3×3 matrix and offset)
predicted from the image's global statistics (fade and dull are global colour maps). A U-Net on
the pixel-unshuffled image, with a full-resolution tail, then adds a correction: a free term plus
a per-pixel mix of Gaussian blur differences (smoothing for noise and blocks, sharpening for
blur), gated per pixel by a predicted damage map of {families} families ({family_names}),
trained from the damage generator's own masks. Both stages start at the identity (the untrained
model returns its input bit-exact). Pixel space throughout: no autoencoder between input and
output.
`art-restore restore` and `evaluate` use it unless `--model` is given.

**Trained on a small offline set only**: {images} sample photographs of scikit-image and
scikit-learn rendered as paintings (OpenCV's edge-preserving stylisation; the held-out ones
excluded) and {paintings} procedural brush paintings, on CPU. Each {crop} px training patch gets 1
to {max_kinds} kinds at random severities in [0.2, 1] ({clean:.0%} left clean). No photographs of
real artworks were available; real paintings and murals differ (pigment texture, varnish,
canvas, real damage), so check on your own scans with `art-restore evaluate DIR`.

| | |
|---|---|
| training | {steps} steps, batch {batch}, {crop} px patches, AdamW at {lr} (cosine) |
| loss | L1 of the restored patch + 0.2 × binary cross-entropy of the damage map |
| training time | {minutes:.0f} min on {threads} CPU threads |

Held-out artworks ({heldout}; whole images), each kind at severity {severity}: PSNR (dB) / SSIM
on RGB against the clean artwork (`art-restore evaluate --heldout`); the last row passes each
clean artwork through every method:

{table}
Gains at least 0.5 dB on the damaged input for {improved}/{kinds} kinds{missed}; mean gain
{gain:+.2f} dB; beats every baseline on average: {beats}; a clean input comes back at
{clean_psnr:.2f} dB.

Recipe (rerun to reproduce; the figures above come from that run):

```bash
.venv/bin/python tools/train_default_restorer.py
art-restore evaluate --heldout --out eval/
```
"""


def cli(*argv: str) -> None:
    print("$ art-restore", " ".join(argv), flush=True)
    subprocess.run([str(BIN / "art-restore"), *argv], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default="out/art_restore_recipe", help="working folder")
    parser.add_argument("--paintings", type=int, default=15)  # as many as photographs
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--crop", type=int, default=64)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--max-kinds", type=int, default=3)
    parser.add_argument("--clean", type=float, default=0.2)
    args = parser.parse_args()

    import torch

    from app_toolkit.checkpoint import store_half
    from art_restore.artworks import HELD_OUT, artworks
    from art_restore.degrade import FAMILIES
    from art_restore.restorer import load_restorer

    work = Path(args.work)
    resume = ["--resume"] if (work / "training_state.pt").exists() else []
    start = time.time()
    cli("train", "--artworks", str(args.paintings), "--out", str(work), "--steps", str(args.steps),
        "--batch-size", str(args.batch_size), "--crop", str(args.crop), "--lr", str(args.lr),
        "--max-kinds", str(args.max_kinds), "--clean", str(args.clean), *resume)  # fmt: skip
    state = torch.load(work / "training_state.pt", weights_only=True)
    minutes = float(state["seconds"]) / 60 if resume else (time.time() - start) / 60
    if TARGET.exists():
        shutil.rmtree(TARGET)
    shutil.copytree(work / "model", TARGET)
    store_half(TARGET)  # float16 on disk: half the size; the card's figures use these weights
    cli("evaluate", "--heldout", "--out", str(work / "eval"), "-q")

    summary = json.loads((work / "eval" / "summary.json").read_text())
    kinds = list(summary["gain_db"])
    missed = [k for k in kinds if k not in summary["kinds_improved"]]
    model = load_restorer("default")
    card = CARD.format(
        params=sum(p.numel() for p in model.parameters()),
        widths=", ".join(map(str, model.config["widths"])),
        families=len(FAMILIES),
        family_names=", ".join(FAMILIES),
        images=len(artworks(held_out=False)),
        paintings=args.paintings,
        steps=args.steps,
        batch=args.batch_size,
        crop=args.crop,
        lr=args.lr,
        max_kinds=args.max_kinds,
        clean=args.clean,
        minutes=minutes,
        threads=torch.get_num_threads(),
        heldout=", ".join(HELD_OUT),
        severity=summary["severity"],
        table=(work / "eval" / "table.md").read_text(),
        improved=len(summary["kinds_improved"]),
        kinds=len(kinds),
        missed=" (not: " + ", ".join(missed) + ")" if missed else "",
        gain=summary["mean_gain_db"],
        beats="yes" if summary["beats_baselines_on_average"] else "no",
        clean_psnr=summary["clean_psnr"],
    )
    (TARGET / "MODEL_CARD.md").write_text(card)
    print(f"shipped restorer and card -> {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
