"""``core-flows bench conv``: time the causal convolution and each inverse backend."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import torch

from core_flows.benchmark import bench_conv, format_table
from core_flows.cli.common import COMMON
from core_flows.ops.causal_inverse import SOLVERS
from core_flows.utils import resolve_device, write_json

log = logging.getLogger(__name__)

DTYPES = {
    "float32": torch.float32,
    "float64": torch.float64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("bench", help="speed benchmarks", description="Speed benchmarks.")
    what = parser.add_subparsers(dest="what", metavar="WHAT", required=True)
    conv = what.add_parser(
        "conv",
        parents=[COMMON],
        help="forward causal convolution vs each exact inverse backend",
        description="Time the forward causal k×k convolution and its exact inverse with each "
        "backend on one shape; prints a table (median of repeats, ratio to the forward "
        "convolution, round-trip error) and optionally writes JSON.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    conv.add_argument("--batch", type=int, default=16, help="batch size B")
    conv.add_argument("--channels", type=int, default=32, help="channels C")
    conv.add_argument("--size", type=int, default=32, help="image height and width")
    conv.add_argument("--kernel-size", type=int, default=3, help="kernel size k")
    conv.add_argument(
        "--backends",
        default=",".join(SOLVERS),
        help=f"comma-separated inverse backends from {list(SOLVERS)}",
    )
    conv.add_argument("--dtype", choices=list(DTYPES), default="float32", help="tensor dtype")
    conv.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    conv.add_argument("--repeats", type=int, default=20, help="timed repeats per entry")
    conv.add_argument("--warmup", type=int, default=3, help="untimed warm-up calls per entry")
    conv.add_argument("--json", type=Path, metavar="PATH", help="also write the result as JSON")
    conv.set_defaults(run=run_conv)


def run_conv(args: argparse.Namespace) -> int:
    for name in ("batch", "channels", "size", "kernel_size", "repeats"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    device = resolve_device(args.device)
    result = bench_conv(
        batch=args.batch,
        channels=args.channels,
        size=args.size,
        kernel_size=args.kernel_size,
        device=device,
        backends=[b.strip() for b in args.backends.split(",") if b.strip()],
        repeats=args.repeats,
        warmup=args.warmup,
        dtype=DTYPES[args.dtype],
    )
    print(format_table(result))
    if args.json:
        write_json(args.json, result)
        log.info("Results saved to %s", args.json)
    return 0
