"""Bits/dim of every flow preset at equal parameter and training budgets, on one dataset.

Each variant's coupling width is chosen so that its parameter count is as close as possible to
glow's at --width; every variant then trains for the same number of optimiser steps with the same
batch size, learning-rate schedule and seed. Writes results.json and table.md into --out.

    .venv/bin/python tools/bench_bits_per_dim.py --data digits --train-steps 3000 --out out/bench_bpd/digits
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from pathlib import Path

import torch

from app_toolkit.devices import environment
from app_toolkit.files import write_json
from core_flows.benchmark import time_function
from core_flows.data import load_images
from core_flows.models import build_flow
from core_flows.pretrained_models import count_parameters
from core_flows.training import TrainConfig, evaluate_bits_per_dim, train

VARIANTS = [
    ("glow", "affine"),
    ("cinc", "affine"),
    ("cinc", "quad"),
    ("finc", "affine"),
    ("inverse_flow", "affine"),
    ("emerging", "affine"),
]


def matched_width(preset, coupling, shape, levels, steps, target, kernel_size, num_levels):
    """The width whose parameter count is closest to ``target`` (counts grow with width)."""

    def params(width):
        flow = build_flow(
            preset,
            shape,
            levels,
            steps,
            width,
            kernel_size,
            coupling=coupling,
            num_levels=num_levels,
        )
        return count_parameters(flow)

    lo, hi = 1, 4096
    while lo < hi:  # smallest width with at least target parameters
        mid = (lo + hi) // 2
        lo, hi = (mid + 1, hi) if params(mid) < target else (lo, mid)
    best = min((w for w in (lo - 1, lo) if w >= 1), key=lambda w: abs(params(w) - target))
    return best, params(best)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--data", default="digits", help="dataset spec (see core-flows train)")
    parser.add_argument("--levels", type=int, default=2)
    parser.add_argument("--steps", type=int, default=4, help="flow steps per level")
    parser.add_argument("--width", type=int, default=64, help="glow's coupling width")
    parser.add_argument("--kernel-size", type=int, default=3)
    parser.add_argument("--train-steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--warmup-steps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--variants",
        default=",".join(f"{p}-{c}" for p, c in VARIANTS),
        help="comma-separated preset-coupling pairs",
    )
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    data = load_images(args.data)
    shape = data.image_shape
    variants = [tuple(v.rsplit("-", 1)) for v in args.variants.split(",")]
    glow = build_flow(
        "glow",
        shape,
        args.levels,
        args.steps,
        args.width,
        args.kernel_size,
        num_levels=data.num_levels,
    )
    target = count_parameters(glow)
    rows = []
    args.out.mkdir(parents=True, exist_ok=True)
    for preset, coupling in variants:
        width, n_params = (
            (args.width, target)
            if (preset, coupling) == ("glow", "affine")
            else matched_width(
                preset,
                coupling,
                shape,
                args.levels,
                args.steps,
                target,
                args.kernel_size,
                data.num_levels,
            )
        )
        torch.manual_seed(args.seed)
        flow = build_flow(
            preset,
            shape,
            args.levels,
            args.steps,
            width,
            args.kernel_size,
            coupling=coupling,
            num_levels=data.num_levels,
        )
        config = TrainConfig.for_steps(
            args.train_steps,
            len(data.train),
            args.batch_size,
            lr=args.lr,
            warmup_steps=args.warmup_steps,
            sample_count=16,
            seed=args.seed,
            device="cpu",
            progress=False,
        )
        t0 = time.perf_counter()
        history = train(flow, data, args.out / f"{preset}-{coupling}", config)
        seconds = time.perf_counter() - t0
        test_bpd = evaluate_bits_per_dim(flow, data.test, data.num_levels)
        train_bpd = evaluate_bits_per_dim(flow, data.train, data.num_levels)
        sample_ms = (
            statistics.median(
                time_function(lambda flow=flow: flow.sample(16), torch.device("cpu"), 5, 1)
            )
            * 1e3
        )
        row = {
            "preset": preset,
            "coupling": coupling,
            "width": width,
            "parameters": n_params,
            "train_steps": history[-1]["step"],
            "test_bpd": test_bpd,
            "train_bpd": train_bpd,
            "train_seconds": seconds,
            "sample16_ms": sample_ms,
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    glow_bpd = next((r["test_bpd"] for r in rows if r["preset"] == "glow"), None)
    for r in rows:
        r["vs_glow_percent"] = None if glow_bpd is None else 100 * (r["test_bpd"] / glow_bpd - 1)
    result = {
        "data": args.data,
        "image_shape": shape,
        "num_levels": data.num_levels,
        "train_images": len(data.train),
        "test_images": len(data.test),
        "args": {k: str(v) for k, v in vars(args).items()},
        "environment": environment(torch.device("cpu")),
        "rows": rows,
    }
    write_json(args.out / "results.json", result)
    lines = [
        "| preset | coupling | width | parameters | test bits/dim | vs glow | train bits/dim "
        "| train s | sample 16 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        vs = "–" if r["vs_glow_percent"] is None else f"{r['vs_glow_percent']:+.1f}%"
        lines.append(
            f"| {r['preset']} | {r['coupling']} | {r['width']} | {r['parameters']:,} | "
            f"{r['test_bpd']:.3f} | {vs} | {r['train_bpd']:.3f} | "
            f"{r['train_seconds']:.0f} | {r['sample16_ms']:.1f} |"
        )
    table = "\n".join(lines)
    (args.out / "table.md").write_text(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
