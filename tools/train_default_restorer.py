"""Recipe for the restorer shipped in art_restore's package data (``pretrained/default``).

Fine-tunes the shipped ×4 super-resolution model at scale 1 on the built-in training artworks
(stylised sample photographs, held-out ones excluded, and procedural brush paintings) with random
mixes of damage, using the commands a user would type; then scores every kind of damage on the
held-out artworks against the classical baselines and writes the model with a model card (figures
taken from this run) into ``apps/art_restore/src/art_restore/pretrained/default``:

    .venv/bin/python tools/train_default_restorer.py
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

The Affine-StableSR model of `affine-sr` (coupling autoencoder, residual diffusion prior, time-aware
encoder and SFT layers; {params:,} parameters) used at scale 1 and fine-tuned from the shipped ×4
super-resolution weights on mixed damage. Its prior is full-code: it generates the autoencoder's
detail channels as well as the latent (the ×4 model's UNet widened; new inputs and the output
layer start at zero, so training starts from "return the input"), trained with the diffusion
loss plus the pixel MSE of its clean estimate (weight {pixel_weight}), half the draws at the last
timestep (the one 1-step sampling uses). Each training crop gets 1 to {max_kinds} kinds at random
severities ({clean:.0%} left clean). `art-restore restore` and `evaluate` use it unless `--model`
is given.

**Trained on a small offline set only**: {images} sample photographs of scikit-image and
scikit-learn rendered as paintings (OpenCV's edge-preserving stylisation; the held-out ones
excluded) and {paintings} procedural brush paintings, on CPU. No photographs of real artworks were
available; real paintings and murals differ (pigment texture, varnish, canvas, real damage).

| | |
|---|---|
| autoencoder | the ×4 model's, unchanged |
| prior, encoder, SFT | {prior_steps} steps, batch {batch}, 128 px crops |
| training time | {minutes:.0f} min on {threads} CPU threads (the stages this run did not resume) |

Held-out artworks ({heldout}, central {crop}×{crop}), each kind at severity {severity}: PSNR (dB) /
SSIM on RGB against the clean artwork (`art-restore evaluate --heldout --crop {crop}` with the
defaults: {steps} step, fidelity {fidelity}):

{table}
Improves on the damaged input for {improved}/{kinds} kinds ({missed}); beats every baseline on
average: {beats}.

Recipe (rerun to reproduce; the figures above come from that run):

```bash
.venv/bin/python tools/train_default_restorer.py
art-restore evaluate --heldout --crop {crop} --out eval/
```
"""


def cli(*argv: str) -> None:
    print("$ art-restore", " ".join(argv), flush=True)
    subprocess.run([str(BIN / "art-restore"), *argv], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default="out/art_restore_recipe", help="working folder")
    parser.add_argument("--paintings", type=int, default=100)
    parser.add_argument("--prior-steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--pixel-weight", type=float, default=30.0)
    parser.add_argument("--max-kinds", type=int, default=3)
    parser.add_argument("--clean", type=float, default=0.1)
    parser.add_argument("--crop", type=int, default=256, help="evaluation crop")
    args = parser.parse_args()

    import torch

    from affine_sr.evaluate import parameter_counts
    from app_toolkit.checkpoint import store_half
    from art_restore.artworks import HELD_OUT, artworks
    from art_restore.restorer import DEFAULTS, load_restorer

    work = Path(args.work)
    resume = ["--resume"] if any(work.glob("*/training_state.pt")) else []
    start = time.time()
    cli("train", "--artworks", str(args.paintings), "--out", str(work),
        "--prior-steps", str(args.prior_steps), "--batch-size", str(args.batch_size),
        "--pixel-weight", str(args.pixel_weight), "--max-kinds", str(args.max_kinds),
        "--clean", str(args.clean), *resume)  # fmt: skip
    minutes = (time.time() - start) / 60
    model_dir = work / "model"
    cli("evaluate", "--heldout", "--crop", str(args.crop), "--model", str(model_dir),
        "--out", str(work / "eval"), "-q")  # fmt: skip

    summary = json.loads((work / "eval" / "summary.json").read_text())
    kinds = list(summary["per_degradation"])
    missed = [k for k in kinds if k not in summary["kinds_improved"]]
    card = CARD.format(
        params=parameter_counts(load_restorer(model_dir))["total"],
        images=len(artworks(held_out=False)),
        paintings=args.paintings,
        prior_steps=args.prior_steps,
        pixel_weight=args.pixel_weight,
        max_kinds=args.max_kinds,
        clean=args.clean,
        batch=args.batch_size,
        minutes=minutes,
        threads=torch.get_num_threads(),
        heldout=", ".join(HELD_OUT),
        crop=args.crop,
        severity=summary["severity"],
        steps=DEFAULTS["steps"],
        fidelity=DEFAULTS["fidelity"],
        table=(work / "eval" / "table.md").read_text(),
        improved=len(summary["kinds_improved"]),
        kinds=len(kinds),
        missed="not: " + ", ".join(missed) if missed else "all",
        beats="yes" if summary["beats_baselines_on_average"] else "no",
    )
    if TARGET.exists():
        shutil.rmtree(TARGET)
    shutil.copytree(
        model_dir, TARGET, ignore=shutil.ignore_patterns("training_state.pt", "history.json")
    )
    store_half(TARGET)  # float16 on disk: half the size, scores unchanged (checked by the tests)
    (TARGET / "MODEL_CARD.md").write_text(card)
    print(f"shipped restorer and card -> {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
