"""Recipe for the flows shipped in core_flows' package data (``finc-digits``, ``inverse_flow-digits``).

Trains each preset on scikit-learn's bundled digits with the settings below, evaluates it, and writes
``config.json``, ``model.safetensors`` and ``MODEL_CARD.md`` into
``packages/core_flows/src/core_flows/pretrained/<preset>-digits/``. Anyone can rerun it:

    .venv/bin/python tools/train_default_flows.py
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import torch

from core_flows.data import load_images
from core_flows.models import build_flow
from core_flows.pretrained_models import count_parameters
from core_flows.training import TrainConfig, evaluate_bits_per_dim, train

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "packages" / "core_flows" / "src" / "core_flows" / "pretrained"

CARD = """# {name}

A {preset} multi-scale flow (core-flows `MultiScaleFlow`, preset `{preset}`) trained on the 8×8
handwritten digits bundled with scikit-learn (1,797 images, 17 grey levels; 1,617 train / 180 test,
split with seed 0).

| | |
|---|---|
| architecture | L={levels} levels × K={steps} steps, coupling width {width}, 3×3 convolutions, affine coupling |
| parameters | {params:,} |
| training | {train_steps} Adam steps, batch {batch}, lr {lr}, {warmup} warm-up steps, gradient clip 10, seed 0, CPU |
| test bits/dim | **{test_bpd:.3f}** (uniform dequantisation, seed 0) |
| train bits/dim | {train_bpd:.3f} |
| training time | {minutes:.1f} min on {threads} CPU threads |

Recipe (rerun to reproduce; figures above come from that run):

```bash
.venv/bin/python tools/train_default_flows.py --train-steps {train_steps}
core-flows evaluate {name} --data digits        # test bits/dim as JSON
core-flows sample {name} --out samples.png
```

Bits/dim here are per dimension of 17-level data (log2 17 = 4.09 bits/dim for a uniform model).

Limits: a small model on tiny 8×8 images, meant to make `core-flows sample` and the demo work out
of the box and to test the pipeline; it says nothing about natural images. Train your own with
`core-flows train --config mnist|cifar10|...` on your data.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", default="finc,inverse_flow")
    parser.add_argument("--train-steps", type=int, default=3000)
    parser.add_argument("--levels", type=int, default=2)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--warmup-steps", type=int, default=200)
    parser.add_argument("--work", type=Path, default=ROOT / "out" / "default_flows")
    args = parser.parse_args()
    data = load_images("digits")
    for preset in args.presets.split(","):
        name = f"{preset}-digits"
        torch.manual_seed(0)
        flow = build_flow(
            preset,
            data.image_shape,
            args.levels,
            args.steps,
            args.width,
            num_levels=data.num_levels,
        )
        config = TrainConfig.for_steps(
            args.train_steps,
            len(data.train),
            args.batch_size,
            lr=args.lr,
            warmup_steps=args.warmup_steps,
            device="cpu",
            seed=0,
        )
        t0 = time.perf_counter()
        train(flow, data, args.work / name, config)
        minutes = (time.perf_counter() - t0) / 60
        flow.eval()
        out = TARGET / name
        shutil.rmtree(out, ignore_errors=True)
        flow.save_pretrained(out)
        (out / "MODEL_CARD.md").write_text(
            CARD.format(
                name=name,
                preset=preset,
                levels=args.levels,
                steps=args.steps,
                width=args.width,
                params=count_parameters(flow),
                train_steps=args.train_steps,
                batch=args.batch_size,
                lr=args.lr,
                warmup=args.warmup_steps,
                minutes=minutes,
                threads=torch.get_num_threads(),
                test_bpd=evaluate_bits_per_dim(flow, data.test, data.num_levels),
                train_bpd=evaluate_bits_per_dim(flow, data.train, data.num_levels),
            )
        )
        print(f"{name}: saved to {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
