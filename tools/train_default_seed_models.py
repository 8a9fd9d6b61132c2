"""Recipe for the models shipped in seed_gan's package data (``pretrained/classifier`` and
``pretrained/gan``).

Writes a synthetic corn-seed set (2,000 images at 64 px, the published class mix), trains the
class-conditional GAN and the classifier on its train split with the commands a user would type,
evaluates the classifier on the test split, and copies both models with model cards (figures taken
from this run) into ``apps/seed_gan/src/seed_gan/pretrained/``. Anyone can rerun it:

    .venv/bin/python tools/train_default_seed_models.py
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "apps" / "seed_gan" / "src" / "seed_gan" / "pretrained"
BIN = Path(sys.executable).parent

CLASSIFIER_CARD = """# seed-gan default classifier

A torchvision `{arch}` (trained from scratch, {params:,} parameters) that grades one {size}×{size}
photograph of a maize kernel on a dark tray as one of {classes}.
`seed-gan grade` uses it unless
`--model` is given.

**Trained on synthetic images only** (`seed-gan synth`: drawn kernels with class-specific shape,
colour and texture defects, the published class mix 7,266 : 5,670 : 3,115 : 1,751). It shows that
the software works end to end; it has never seen a photograph of a real seed lot and must not be
used to grade one. Train your own on your lab's photographs with `seed-gan classify train`.

| | |
|---|---|
| data | `seed-gan synth DATA --total {total} --size {size} --seed 0`: {train_counts} in the train split |
| training | {steps} Adam steps, batch {batch}, lr {lr}, cosine decay, flips and 90° rotations, seed 0, CPU |
| test split ({test_n} images) | accuracy **{accuracy:.3f}**, macro-F1 **{macro_f1:.3f}** |
| per-class recall | {recalls} |
| calibration | temperature {temperature:.2f} (validation split); test expected calibration error {ece:.3f} → {ece_calibrated:.3f} |
| out-of-distribution check | Mahalanobis distance of the first convolution's statistics above {threshold:.1f} (99% of validation kernels below): not graded, sent to review |
| training time | {minutes:.1f} min on {threads} CPU threads |

Confusion matrix of the test split (rows: true class):

{confusion}

Recipe (rerun to reproduce; figures above come from that run):

```bash
.venv/bin/python tools/train_default_seed_models.py
seed-gan classify evaluate default DATA    # DATA: the recipe's synthetic set
```
"""

GAN_CARD = """# seed-gan default generator

The EMA generator of a class-conditional GAN (class-conditional batch norm, projection
discriminator with spectral norm, hinge loss) that draws {size}×{size} maize kernels of the classes
{classes}; {params:,} parameters. The demo and `seed-gan gan sample` use it.

**Trained on synthetic images only** (the same set as the default classifier's train split:
{train_counts}), {steps} steps at batch {batch}, width {width}, seed 0, {minutes:.1f} min on
{threads} CPU threads. Rows of `samples.png` are the classes in the order above.

What it is good for: colour defects (discolored) it draws well; the 1-2 px cracks of silkcut it
does not draw, and classifiers trained with its images added did not beat a class-weighted loss
(docs/benchmarks.md, seed-gan). Trained without differentiable augmentation: with `--diffaugment
translation` the generated images helped no more (N = 10 and 30 rare images), so it was not
retrained.

Recipe: `.venv/bin/python tools/train_default_seed_models.py` (the figures above come from that
run).
"""


def cli(*argv: str) -> None:
    print("$ seed-gan", " ".join(argv), flush=True)
    subprocess.run([str(BIN / "seed-gan"), *argv], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default="out/seed_gan_recipe", help="working folder")
    parser.add_argument("--total", type=int, default=2000)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--gan-steps", type=int, default=1500)
    parser.add_argument("--gan-width", type=int, default=16)
    parser.add_argument("--gan-batch", type=int, default=32)
    parser.add_argument("--clf-steps", type=int, default=600)
    parser.add_argument("--clf-arch", default="shufflenet_v2_x0_5")
    parser.add_argument("--clf-lr", type=float, default=3e-3)
    args = parser.parse_args()

    import torch

    from seed_gan.classifier import load_classifier
    from seed_gan.gan import load_generator

    work = Path(args.work)
    data, gan, clf = work / "data", work / "gan", work / "clf"
    if not data.is_dir():
        cli("synth", str(data), "--total", str(args.total), "--size", str(args.size), "-q")
    size = ["--size", str(args.size)]
    start = time.time()
    resume = ["--resume"] if (gan / "gan_state.pt").is_file() else []
    cli("gan", "train", str(data), "--out", str(gan), *size, "--width", str(args.gan_width),
        "--batch-size", str(args.gan_batch), "--steps", str(args.gan_steps), *resume)  # fmt: skip
    gan_minutes = (time.time() - start) / 60
    start = time.time()
    cli("classify", "train", str(data), "--out", str(clf), *size, "--arch", args.clf_arch,
        "--steps", str(args.clf_steps), "--lr", str(args.clf_lr), "--batch-size", "64")  # fmt: skip
    clf_minutes = (time.time() - start) / 60

    metrics = json.loads((clf / "metrics.json").read_text())
    classifier, generator = load_classifier(clf), load_generator(gan)
    classes = ", ".join(classifier.classes)
    train_counts = ", ".join(f"{n} {c}" for c, n in metrics["train_counts"].items())
    threads = torch.get_num_threads()
    header = "| true \\ predicted | " + " | ".join(metrics["classes"]) + " |"
    rule = "|---" * (len(metrics["classes"]) + 1) + "|"
    rows = [
        f"| {c} | " + " | ".join(str(v) for v in row) + " |"
        for c, row in zip(metrics["classes"], metrics["confusion"])
    ]
    card = CLASSIFIER_CARD.format(
        arch=args.clf_arch,
        params=sum(p.numel() for p in classifier.parameters()),
        size=args.size,
        classes=classes,
        total=args.total,
        train_counts=train_counts,
        steps=args.clf_steps,
        batch=64,
        lr=args.clf_lr,
        test_n=sum(v["support"] for v in metrics["per_class"].values()),
        accuracy=metrics["accuracy"],
        macro_f1=metrics["macro_f1"],
        recalls=", ".join(f"{c} {v['recall']:.3f}" for c, v in metrics["per_class"].items()),
        minutes=clf_minutes,
        threads=threads,
        temperature=metrics["calibration"]["temperature"],
        threshold=metrics["calibration"]["threshold"],
        ece=metrics["ece"],
        ece_calibrated=metrics["ece_calibrated"],
        confusion="\n".join([header, rule, *rows]),
    )
    gan_card = GAN_CARD.format(
        size=args.size,
        classes=", ".join(generator.classes),
        params=sum(p.numel() for p in generator.parameters()),
        train_counts=train_counts,
        steps=args.gan_steps,
        batch=args.gan_batch,
        width=args.gan_width,
        minutes=gan_minutes,
        threads=threads,
    )
    for name, source, text, extra in (
        ("classifier", clf / "model", card, clf / "confusion.png"),
        ("gan", gan / "generator", gan_card, gan / "samples.png"),
    ):
        target = TARGET / name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target)
        shutil.copy(extra, target / extra.name)
        (target / "MODEL_CARD.md").write_text(text)
        print(f"wrote {target} ({sum(f.stat().st_size for f in target.iterdir()) / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
