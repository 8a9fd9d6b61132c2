"""Seconds per 512×512 output of the shipped affine-sr model (×4 from 128×128, default tiling):
median of 5 runs after a warm-up, for 1, 4 and 20 sampling steps.

    .venv/bin/python tools/bench_sr_speed.py [--device cuda]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from affine_sr.checkpoint import load_model
from affine_sr.pipeline import upscale_image
from app_toolkit.devices import resolve_device


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    device = resolve_device(args.device)
    model = load_model("default", str(device))
    lr = np.random.default_rng(0).integers(0, 256, (128, 128, 3), dtype=np.uint8)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    for steps in (1, 4, 20):
        upscale_image(model, lr, 4, steps=steps)  # warm-up
        times = []
        for _ in range(5):
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            start = time.perf_counter()
            upscale_image(model, lr, 4, steps=steps)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            times.append(time.perf_counter() - start)
        print(
            f"steps {steps:>2}: median {statistics.median(times):.2f} s per 512x512 output "
            f"({name}, {torch.get_num_threads()} threads)"
        )


if __name__ == "__main__":
    main()
