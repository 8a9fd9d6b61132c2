"""``core-flows bench conv|sampling|train``: speed of the convolutions, of sampling and of training."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from app_toolkit.cli import COMMON, add_device_option
from app_toolkit.files import write_json
from core_flows.constants import PAPER_CONFIGS, SAMPLING_PRESETS, SOLVER_NAMES

log = logging.getLogger(__name__)

# tensor dtypes by their torch attribute name (torch itself is imported when a benchmark runs)
DTYPES = ("float32", "float64", "float16", "bfloat16")


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
        help=f"comma-separated inverse backends from {list(SOLVER_NAMES)} (default: all that run "
        "on the device; triton and published need CUDA)",
    )
    conv.add_argument("--dtype", choices=DTYPES, default="float32", help="tensor dtype")
    add_device_option(conv)
    conv.add_argument("--repeats", type=int, default=20, help="timed repeats per entry")
    conv.add_argument("--warmup", type=int, default=3, help="untimed warm-up calls per entry")
    conv.add_argument("--json", type=Path, metavar="PATH", help="also write the result as JSON")
    conv.set_defaults(run=run_conv)

    sampling = what.add_parser(
        "sampling",
        parents=[COMMON],
        help="sampling and density time of every preset on the papers' configurations",
        description="Parameters, forward (density) time and sampling time of glow, cinc, finc, "
        "inverse_flow, emerging and finc on the published kernel schedule, on the papers' "
        "configurations, each as a ratio to glow in the same run. Random weights (speed does not "
        "depend on training). Writes a table, optional JSON and a plot of sampling time against "
        "image size.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    sampling.add_argument(
        "--configs",
        default=",".join(PAPER_CONFIGS),
        help=f"comma-separated, from {list(PAPER_CONFIGS)}",
    )
    sampling.add_argument("--batches", default="1,100", help="comma-separated batch sizes")
    sampling.add_argument(
        "--presets",
        default=",".join(SAMPLING_PRESETS),
        help=f"comma-separated, from {list(SAMPLING_PRESETS)}",
    )
    sampling.add_argument("--width", type=int, default=512, help="coupling width")
    sampling.add_argument("--steps", type=int, help="override K, the steps per level")
    add_device_option(sampling)
    sampling.add_argument("--repeats", type=int, default=10, help="timed repeats per entry")
    sampling.add_argument(
        "--budget",
        type=float,
        default=5.0,
        help="an entry slower than this many seconds is timed once",
    )
    sampling.add_argument("--json", type=Path, metavar="PATH", help="also write JSON")
    sampling.add_argument("--plot", type=Path, metavar="PNG", help="sampling time vs image size")
    sampling.set_defaults(run=run_sampling)

    train = what.add_parser(
        "train",
        parents=[COMMON],
        help="time of one training step per preset",
        description="Median time of one optimiser step (forward, backward, Adam) of each preset "
        "on a paper configuration, with ratios to finc.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    train.add_argument("--config", choices=list(PAPER_CONFIGS), default="cifar10")
    train.add_argument("--batch", type=int, default=16, help="batch size")
    train.add_argument("--presets", default="glow,finc,inverse_flow", help="comma-separated")
    train.add_argument("--width", type=int, default=512, help="coupling width")
    train.add_argument("--steps", type=int, help="override K, the steps per level")
    add_device_option(train)
    train.add_argument("--repeats", type=int, default=10, help="timed repeats")
    train.add_argument("--json", type=Path, metavar="PATH", help="also write JSON")
    train.set_defaults(run=run_train)


def _split(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def run_sampling(args: argparse.Namespace) -> int:
    from app_toolkit.devices import resolve_device
    from core_flows.benchmark import bench_sampling, format_sampling_table, plot_sampling

    try:
        batches = [int(b) for b in _split(args.batches)]
    except ValueError:
        raise ValueError(
            f"--batches must be comma-separated integers, got {args.batches!r}"
        ) from None
    if not batches or min(batches) < 1 or args.width < 1 or args.repeats < 1:
        raise ValueError("--batches, --width and --repeats must be >= 1")
    result = bench_sampling(
        _split(args.configs),
        batches,
        _split(args.presets),
        args.width,
        args.steps,
        resolve_device(args.device),
        args.repeats,
        args.budget,
    )
    print(format_sampling_table(result))
    if args.json:
        write_json(args.json, result)
        log.info("Results saved to %s", args.json)
    if args.plot:
        plot_sampling(result, args.plot)
        log.info("Plot saved to %s", args.plot)
    return 0


def run_train(args: argparse.Namespace) -> int:
    from app_toolkit.devices import resolve_device
    from core_flows.benchmark import bench_train, format_train_table

    if args.batch < 1 or args.width < 1 or args.repeats < 1:
        raise ValueError("--batch, --width and --repeats must be >= 1")
    presets = _split(args.presets)
    for p in presets:
        if p not in SAMPLING_PRESETS:
            raise ValueError(f"unknown preset {p!r}; choose from {list(SAMPLING_PRESETS)}")
    result = bench_train(
        args.config,
        args.batch,
        presets,
        args.width,
        args.steps,
        resolve_device(args.device),
        args.repeats,
    )
    print(format_train_table(result))
    if args.json:
        write_json(args.json, result)
        log.info("Results saved to %s", args.json)
    return 0


def run_conv(args: argparse.Namespace) -> int:
    import torch

    from app_toolkit.devices import resolve_device
    from core_flows.benchmark import bench_conv, format_table

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
        backends=_split(args.backends) if args.backends else None,
        repeats=args.repeats,
        warmup=args.warmup,
        dtype=getattr(torch, args.dtype),
    )
    print(format_table(result))
    if args.json:
        write_json(args.json, result)
        log.info("Results saved to %s", args.json)
    return 0
