"""``core-flows sample``: a grid of samples from a trained flow."""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path

from app_toolkit.cli import COMMON, add_device_option
from app_toolkit.files import write_json

log = logging.getLogger(__name__)


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model",
        metavar="MODEL",
        help="a model folder (save_pretrained or a training --out) or a shipped model name "
        "(finc-digits, inverse_flow-digits)",
    )
    add_device_option(parser)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sample",
        parents=[COMMON],
        help="write a grid of samples as PNG",
        description="Draw samples from a trained flow and save them as a PNG grid (plus a JSON "
        "file of the options beside it).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_model_argument(p)
    p.add_argument("--out", type=Path, default=Path("samples.png"), help="PNG to write")
    p.add_argument("-n", "--num-samples", type=int, default=64, help="number of samples")
    p.add_argument("--temperature", type=float, default=0.8, help="prior standard-deviation scale")
    p.add_argument("--nrow", type=int, help="images per row (default: square grid)")
    p.add_argument("--upscale", type=int, default=4, help="nearest-neighbour zoom of each image")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from app_toolkit.plots import save_grid
    from core_flows.pretrained_models import load_flow

    if args.num_samples < 1:
        raise ValueError(f"--num-samples must be >= 1, got {args.num_samples}")
    if (args.nrow is not None and args.nrow < 1) or args.upscale < 1:
        raise ValueError("--nrow and --upscale must be >= 1")
    if args.temperature < 0:
        raise ValueError(f"--temperature must be >= 0, got {args.temperature}")
    if args.out.exists() and not args.overwrite:
        raise ValueError(f"{args.out} exists; pass --overwrite to replace it")
    flow = load_flow(args.model, args.device)
    samples = flow.sample(
        args.num_samples, args.temperature, torch.Generator().manual_seed(args.seed)
    )
    nrow = args.nrow or math.ceil(math.sqrt(args.num_samples))
    save_grid(samples, args.out, nrow=nrow, upscale=args.upscale)
    options = {k: str(v) for k, v in vars(args).items() if k not in ("run",)}
    write_json(args.out.with_suffix(".json"), options)
    log.info("Results saved to %s", args.out)
    return 0
