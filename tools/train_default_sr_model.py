"""Recipe for the model shipped in affine_sr's package data (``pretrained/default``).

Trains on images available offline (the scikit-image and scikit-learn sample images, except the
held-out ones, plus procedural textures) with the commands a user would type: stage 1 (the
coupling autoencoder) on 64-pixel crops, stage 2 (prior and conditioning) on 128-pixel crops,
then evaluates ×4 on the held-out images against bicubic and writes the model with a model card
(figures taken from this run) into ``packages/superres/src/affine_sr/pretrained/default``:

    .venv/bin/python tools/train_default_sr_model.py
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
TARGET = ROOT / "packages" / "superres" / "src" / "affine_sr" / "pretrained" / "default"
BIN = Path(sys.executable).parent

CARD = """# affine-sr default model

Affine-StableSR for ×{scale} super-resolution: a coupling autoencoder (an invertible flow of
1×1 convolutions and affine couplings, factor 8, {latent} latent channels) in place of Stable
Diffusion's VAE, a diffusers `UNet2DModel` prior (widths {widths}, v-prediction, zero-terminal-SNR
DDIM, {layers} ResNet block per level) over its latent, a time-aware encoder and SFT layers that steer the prior with the
low-resolution image. `affine-sr upscale` and `evaluate` use it unless `--model` is given.

| component | parameters |
|---|---|
{params}

**Trained on a small offline set only**: {images} sample images from scikit-image and
scikit-learn (all but the held-out {heldout}) and {textures} procedural textures, on CPU. Half the
LR inputs are plain bicubic reductions, half Real-ESRGAN degradations (blur, resize, noise, JPEG,
twice). It shows the method and the software end to end; it has not seen the photographs of
DIV2K/LSDIR that published SR models train on. Train your own with `affine-sr train`.

| | |
|---|---|
| stage 1 (autoencoder) | {ae_steps} steps, batch {batch}, 64 px crops, AdamW 1e-3, cosine decay |
| stage 2 (prior, encoder, SFT) | {prior_steps} steps, batch {batch}, 128 px crops, AdamW 3e-4, cosine decay |
| training time | {minutes:.0f} min on {threads} CPU threads (both stages, or the stages this run did not resume) |

Held-out images (×{scale}, bicubic-reduced input, border of {scale} px left out;
`affine-sr evaluate --heldout` with the defaults: steps {steps}, fidelity 1, wavelet colour fix):

| method | PSNR-Y | SSIM-Y | PSNR-RGB | SSIM-RGB | s / image |
|---|---|---|---|---|---|
{scores}

Per image (PSNR-Y, bicubic → affine-sr): {per_image}.

Recipe (rerun to reproduce; the figures above come from that run):

```bash
.venv/bin/python tools/train_default_sr_model.py
affine-sr evaluate --heldout --out eval/
```
"""


def cli(*argv: str) -> None:
    print("$ affine-sr", " ".join(argv), flush=True)
    subprocess.run([str(BIN / "affine-sr"), *argv], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default="out/superres_recipe", help="working folder")
    parser.add_argument("--textures", type=int, default=200)
    parser.add_argument("--ae-steps", type=int, default=1000)
    parser.add_argument("--prior-steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--latent-channels", type=int, default=16)
    parser.add_argument("--widths", default="32,64,128")
    parser.add_argument("--layers", type=int, default=1)
    args = parser.parse_args()

    import torch

    from affine_sr.data import HELD_OUT, sample_images
    from app_toolkit.checkpoint import store_half

    work = Path(args.work)
    common = ["--samples", "--textures", str(args.textures), "--out", str(work)]
    common += ["--batch-size", str(args.batch_size), "--latent-channels", str(args.latent_channels)]
    common += ["--widths", args.widths, "--layers", str(args.layers), "--save-every", "250"]
    start = time.time()
    resume = ["--resume"] if (work / "autoencoder" / "training_state.pt").is_file() else []
    cli("train", *common, "--stage", "autoencoder", "--crop", "64",
        "--ae-steps", str(args.ae_steps), *resume)  # fmt: skip
    resume = ["--resume"] if (work / "model" / "training_state.pt").is_file() else []
    cli("train", *common, "--stage", "prior", "--crop", "128",
        "--prior-steps", str(args.prior_steps), *resume)  # fmt: skip
    minutes = (time.time() - start) / 60
    cli("evaluate", "--heldout", "--model", str(work), "--out", str(work / "eval"), "-q")

    summary = json.loads((work / "eval" / "summary.json").read_text())
    results = (work / "eval" / "results.csv").read_text().splitlines()[1:]
    by_image: dict[str, list[str]] = {}
    for line in results:
        name, method, psnr_y = line.split(",")[:3]
        by_image.setdefault(name, []).append(f"{float(psnr_y):.2f}")
    scores = "\n".join(
        f"| {m} | {s['psnr_y']:.2f} | {s['ssim_y']:.4f} | {s['psnr_rgb']:.2f} | "
        f"{s['ssim_rgb']:.4f} | {s['median_seconds']:.2f} |"
        for m, s in ((m, summary[m]) for m in ("bicubic", "affine-sr"))
    )
    images = len([n for n in sample_images() if n not in HELD_OUT])
    card = CARD.format(
        scale=summary["scale"],
        latent=args.latent_channels,
        widths=args.widths,
        layers=args.layers,
        params="\n".join(f"| {k} | {v:,} |" for k, v in summary["parameters"].items()),
        images=images,
        heldout=", ".join(HELD_OUT),
        textures=args.textures,
        ae_steps=args.ae_steps,
        prior_steps=args.prior_steps,
        batch=args.batch_size,
        minutes=minutes,
        threads=torch.get_num_threads(),
        steps=summary["options"]["steps"],
        scores=scores,
        per_image=", ".join(f"{n} {' → '.join(v)}" for n, v in by_image.items()),
    )
    if TARGET.exists():
        shutil.rmtree(TARGET)
    shutil.copytree(
        work / "model", TARGET, ignore=shutil.ignore_patterns("training_state.pt", "history.json")
    )
    store_half(TARGET)  # float16 on disk: half the size, scores unchanged (checked by the tests)
    (TARGET / "MODEL_CARD.md").write_text(card)
    print(f"shipped model and card -> {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
