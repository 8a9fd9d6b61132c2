"""``core-flows train``: maximum-likelihood training of a multi-scale flow."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from app_toolkit.cli import COMMON, add_device_option
from app_toolkit.files import check_output_dir
from core_flows.constants import COUPLINGS, LR_SCHEDULES, MODEL_DIR, PAPER_CONFIGS, PRESETS

log = logging.getLogger(__name__)

SMALL = {"levels": 2, "steps": 4, "width": 64}


def add_data_arguments(parser: argparse.ArgumentParser, default: str | None = "digits") -> None:
    parser.add_argument(
        "--data",
        default=default,
        required=default is None,
        help="dataset: digits, lfw, folder:PATH, npz:PATH, mnist[:ROOT], cifar10[:ROOT], "
        "celeba[:ROOT] (local files only)",
    )
    parser.add_argument("--image-size", type=int, help="side length for folder:/celeba images")
    parser.add_argument("--channels", type=int, choices=(1, 3), help="1 or 3 for folder: images")
    parser.add_argument("--n-bits", type=int, help="requantise the data to 2**N levels")


def load_data(args: argparse.Namespace):
    from core_flows.data import load_images

    return load_images(args.data, args.image_size, args.channels, args.n_bits)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        parents=[COMMON],
        help="train a multi-scale flow (runs under accelerate)",
        description="Train a multi-scale flow by maximum likelihood. After every epoch: test "
        "bits/dim, a sample grid, a bits/dim plot, metrics.json and a checkpoint in --out. "
        "`accelerate launch core-flows train ...` spreads training over GPUs and machines.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--out", type=Path, required=True, help="output folder")
    add_data_arguments(p)
    p.add_argument("--preset", choices=PRESETS, default="finc", help="flow step design")
    p.add_argument(
        "--config",
        choices=[*PAPER_CONFIGS, "small"],
        default="small",
        help="sizes: the papers' L/K/width per dataset, or small (L=2, K=4, width 64); "
        "--levels/--steps/--width override",
    )
    p.add_argument("--levels", type=int, help="number of scales L")
    p.add_argument("--steps", type=int, help="flow steps per scale K")
    p.add_argument("--width", type=int, help="hidden channels of the coupling networks")
    p.add_argument("--kernel-size", type=int, default=3, help="k of the k×k convolutions")
    p.add_argument("--coupling", choices=COUPLINGS, default="affine", help="coupling")
    p.add_argument("--logit-alpha", type=float, help="logit preprocessing with this α (e.g. 1e-6)")
    p.add_argument("--epochs", type=int, default=10, help="epochs")
    p.add_argument("--batch-size", type=int, default=64, help="batch size per device")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    p.add_argument("--warmup-steps", type=int, default=200, help="linear learning-rate warm-up")
    p.add_argument(
        "--lr-schedule",
        choices=LR_SCHEDULES,
        default="constant",
        help="after the warm-up: constant, or cosine decay to 0 at the last step",
    )
    p.add_argument("--grad-clip", type=float, default=10.0, help="gradient-norm clipping")
    p.add_argument("--max-steps", type=int, help="stop after this many optimiser steps")
    p.add_argument(
        "--eval-every", type=int, default=1, help="evaluate, sample and checkpoint every N epochs"
    )
    p.add_argument("--sample-temperature", type=float, default=0.8, help="for the sample grids")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    add_device_option(p)
    p.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    p.add_argument("--overwrite", action="store_true", help="start afresh even if --out has a run")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from core_flows.models import build_flow
    from core_flows.pretrained_models import count_parameters
    from core_flows.training import TrainConfig, train

    name, _, path = args.data.partition(":")
    if path and name.lower() in ("folder", "npz"):
        check_output_dir(args.out, [path])
    if (args.out / MODEL_DIR).exists() and not (args.resume or args.overwrite):
        raise ValueError(f"{args.out} already holds a run; pass --resume or --overwrite")
    names = ("epochs", "batch_size", "levels", "steps", "width", "kernel_size", "eval_every")
    for name in (*names, "max_steps"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    sizes = dict(SMALL if args.config == "small" else PAPER_CONFIGS[args.config])
    sizes.pop("image_shape", None)
    for key in ("levels", "steps", "width"):
        if getattr(args, key) is not None:
            sizes[key] = getattr(args, key)
    data = load_data(args)
    model = build_flow(
        args.preset,
        data.image_shape,
        kernel_size=args.kernel_size,
        coupling=args.coupling,
        num_levels=data.num_levels,
        logit_alpha=args.logit_alpha,
        **sizes,
    )
    log.info(
        "%s flow, %d parameters; %s: %d train / %d test images of %s, %d levels",
        args.preset,
        count_parameters(model),
        args.data,
        len(data.train),
        len(data.test),
        "×".join(map(str, data.image_shape)),
        data.num_levels,
    )
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        warmup_steps=args.warmup_steps,
        lr_schedule=args.lr_schedule,
        grad_clip=args.grad_clip,
        max_steps=args.max_steps,
        sample_temperature=args.sample_temperature,
        eval_every=args.eval_every,
        seed=args.seed,
        device=args.device,
        progress=not args.quiet,
    )
    history = train(model, data, args.out, config, resume=args.resume)
    if history:
        print(f"test bits/dim {history[-1]['test_bpd']:.4f} after {history[-1]['step']} steps")
    log.info("Results saved to %s", args.out)
    return 0
