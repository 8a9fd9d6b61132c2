"""Recipe for the model shipped in affine_sr's package data (``pretrained/default``).

Trains on images available offline (the scikit-image and scikit-learn sample images, except the
held-out ones, plus procedural textures) with the commands a user would type: stage 1 (the
coupling autoencoder) on 64-pixel crops, stage 2 (prior and conditioning) on 128-pixel crops,
stage 3 (the pixel-space refiner) on crops of plain bicubic reductions, then evaluates ×4 on the
held-out photographs against bicubic and Lanczos and writes the model with a model card (figures
taken from this run) into ``packages/superres/src/affine_sr/pretrained/default``:

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
DDIM, {layers} ResNet block per level) over its latent, a time-aware encoder and SFT layers that
steer the prior with the low-resolution image, and a pixel-space refiner ({refiner_blocks}
residual blocks of {refiner_width} channels at the input's resolution) that corrects the decoded
estimate. `affine-sr upscale` and `evaluate` use it unless `--model` is given.

| component | parameters |
|---|---|
{params}

**Trained on a small offline set only**: {images} sample images from scikit-image and
scikit-learn (all but the held-out {heldout}) and {textures} procedural textures, on CPU. For
stages 1 and 2 half the LR inputs are plain bicubic reductions, half Real-ESRGAN degradations
(blur, resize, noise, JPEG, twice); for the refiner {refiner_clean:.0%} are plain bicubic. It shows the method and the software end to end; it has not seen the photographs of
DIV2K/LSDIR that published SR models train on. Train your own with `affine-sr train`.

| | |
|---|---|
| stage 1 (autoencoder) | {ae_steps} steps, batch {batch}, 64 px crops, AdamW 1e-3, cosine decay |
| stage 2 (prior, encoder, SFT) | {prior_steps} steps, batch {batch}, 128 px crops, AdamW 3e-4, cosine decay |
| stage 3 (refiner) | {refiner_steps} steps, batch {batch}, {refiner_crop} px crops, AdamW 1e-3, cosine decay, L1 |
| training time | {minutes:.0f} min on {threads} CPU threads ({stage_minutes}) |

Held-out photographs ({photos}; ×{scale}, bicubic-reduced input, border of {scale} px left
out; `affine-sr evaluate --heldout` with the defaults: steps {steps}, fidelity {fidelity:g}, wavelet
colour fix; detail ratio: high-pass energy over the reference's; GMSD: lower is better; NIQE: no
reference, lower is more natural, fitted by `tools/fit_niqe.py`):

| method | PSNR-Y | SSIM-Y | PSNR-RGB | SSIM-RGB | detail ratio | GMSD | NIQE | s / image |
|---|---|---|---|---|---|---|---|---|
{scores}

PSNR-Y gain over bicubic {gain:+.2f} dB; above Lanczos on {above_lanczos} of {n_photos}
photographs. Per photograph (PSNR-Y, bicubic / Lanczos / affine-sr): {per_image}.

The same photographs saved as JPEG at quality 70 before upscaling (`affine-sr evaluate --heldout
--lr jpeg`): {jpeg_gain:+.2f} dB over bicubic, above Lanczos on {jpeg_above} of {n_photos}; the
refiner saw no JPEG in training.

Recipe (rerun to reproduce; the figures above come from that run):

```bash
.venv/bin/python tools/train_default_sr_model.py
affine-sr evaluate --heldout --out eval/
affine-sr evaluate --heldout --lr jpeg --out eval_jpeg/
```
"""


def cli(*argv: str) -> None:
    print("$ affine-sr", " ".join(argv), flush=True)
    subprocess.run([str(BIN / "affine-sr"), *argv], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default="out/superres_recipe", help="working folder")
    parser.add_argument("--target", default=str(TARGET), help="where the model and card go")
    parser.add_argument("--textures", type=int, default=200)
    parser.add_argument("--ae-steps", type=int, default=1000)
    parser.add_argument("--prior-steps", type=int, default=1500)
    parser.add_argument("--refiner-steps", type=int, default=3000)
    parser.add_argument("--refiner-crop", type=int, default=96)
    parser.add_argument("--refiner-clean", type=float, default=1.0)
    parser.add_argument("--refiner-width", type=int, default=48)
    parser.add_argument("--refiner-blocks", type=int, default=6)
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
    # minutes per stage, kept across runs: a resumed stage adds to what its earlier runs took
    timing_file = work / "stage_minutes.json"
    minutes_by_stage = json.loads(timing_file.read_text()) if timing_file.is_file() else {}
    stages = {
        "autoencoder": ("autoencoder", ["--crop", "64", "--ae-steps", str(args.ae_steps)]),
        "prior": ("model", ["--crop", "128", "--prior-steps", str(args.prior_steps)]),
        "refiner": ("refiner_run", ["--crop", str(args.refiner_crop),
                                    "--clean", str(args.refiner_clean),
                                    "--refiner-steps", str(args.refiner_steps),
                                    "--refiner-width", str(args.refiner_width),
                                    "--refiner-blocks", str(args.refiner_blocks)]),
    }  # fmt: skip
    for stage, (folder, options) in stages.items():
        resume = (work / folder / "training_state.pt").is_file()
        start = time.time()
        cli("train", *common, "--stage", stage, *options, *(["--resume"] if resume else []))
        spent = (time.time() - start) / 60
        minutes_by_stage[stage] = minutes_by_stage.get(stage, 0.0) + spent if resume else spent
        work.mkdir(parents=True, exist_ok=True)
        timing_file.write_text(json.dumps(minutes_by_stage, indent=1))
    minutes = sum(minutes_by_stage.values())
    target = Path(args.target)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(
        work / "model", target, ignore=shutil.ignore_patterns("training_state.pt", "history.json")
    )
    store_half(target)  # float16 on disk: half the size; the card's figures use these weights
    cli("evaluate", "--heldout", "--model", str(target), "--out", str(work / "eval"), "-q")
    jpeg_dir = str(work / "eval_jpeg")
    cli("evaluate", "--heldout", "--lr", "jpeg", "--model", str(target), "--out", jpeg_dir, "-q")
    jpeg_summary = json.loads((work / "eval_jpeg" / "summary.json").read_text())

    summary = json.loads((work / "eval" / "summary.json").read_text())
    by_image: dict[str, dict[str, float]] = {}
    for line in (work / "eval" / "results.csv").read_text().splitlines()[1:]:
        name, method, psnr_y = line.split(",")[:3]
        by_image.setdefault(name, {})[method] = float(psnr_y)
    scores = "\n".join(
        f"| {m} | {s['psnr_y']:.2f} | {s['ssim_y']:.4f} | {s['psnr_rgb']:.2f} | "
        f"{s['ssim_rgb']:.4f} | {s['detail']:.3f} | {s['gmsd']:.4f} | {s['niqe']:.2f} | "
        f"{s['median_seconds']:.2f} |"
        for m, s in ((m, summary[m]) for m in ("bicubic", "lanczos", "affine-sr"))
    )
    images = len([n for n in sample_images() if n not in HELD_OUT])
    card = CARD.format(
        scale=summary["scale"],
        latent=args.latent_channels,
        widths=args.widths,
        layers=args.layers,
        refiner_width=args.refiner_width,
        refiner_blocks=args.refiner_blocks,
        params="\n".join(f"| {k} | {v:,} |" for k, v in summary["parameters"].items()),
        images=images,
        heldout=", ".join(HELD_OUT),
        textures=args.textures,
        refiner_clean=args.refiner_clean,
        ae_steps=args.ae_steps,
        prior_steps=args.prior_steps,
        refiner_steps=args.refiner_steps,
        refiner_crop=args.refiner_crop,
        batch=args.batch_size,
        minutes=minutes,
        stage_minutes=", ".join(f"{k} {v:.0f} min" for k, v in minutes_by_stage.items()),
        threads=torch.get_num_threads(),
        photos=", ".join(by_image),
        steps=summary["options"]["steps"],
        fidelity=summary["options"]["fidelity"],
        scores=scores,
        gain=summary["psnr_y_gain"],
        above_lanczos=summary["beats_lanczos_on"],
        jpeg_gain=jpeg_summary["psnr_y_gain"],
        jpeg_above=jpeg_summary["beats_lanczos_on"],
        n_photos=len(by_image),
        per_image=", ".join(
            f"{n} {v['bicubic']:.2f} / {v['lanczos']:.2f} / {v['affine-sr']:.2f}"
            for n, v in by_image.items()
        ),
    )
    (target / "MODEL_CARD.md").write_text(card)
    print(f"shipped model and card -> {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
