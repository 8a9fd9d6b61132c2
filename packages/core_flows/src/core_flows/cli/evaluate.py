"""``core-flows evaluate``: bits per dimension of a dataset split under a trained flow."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from app_toolkit.cli import COMMON
from app_toolkit.files import write_json
from core_flows.cli.sample import add_model_argument
from core_flows.cli.train import add_data_arguments, load_data

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        parents=[COMMON],
        help="bits/dim on a dataset split, as JSON",
        description="Evaluate bits per dimension (uniform dequantisation with a fixed seed) of a "
        "dataset split under a trained flow; prints JSON and optionally writes it to a file.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_model_argument(p)
    add_data_arguments(p)
    p.add_argument("--split", choices=("test", "train"), default="test", help="which split")
    p.add_argument("--batch-size", type=int, default=256, help="evaluation batch size")
    p.add_argument("--seed", type=int, default=0, help="seed of the dequantisation noise")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the result here")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from core_flows.pretrained_models import load_flow
    from core_flows.training import evaluate_bits_per_dim

    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}")
    flow = load_flow(args.model, args.device)
    data = load_data(args)
    if tuple(data.image_shape) != flow.image_shape or data.num_levels != flow.num_levels:
        raise ValueError(
            f"{args.data} has images {data.image_shape} with {data.num_levels} levels; the model "
            f"expects {flow.image_shape} with {flow.num_levels}"
        )
    images = data.test if args.split == "test" else data.train
    if args.split == "test" and data.test_source != "test set":
        log.info("--split test is the %s", data.test_source)
    bpd = evaluate_bits_per_dim(
        flow, images, data.num_levels, args.batch_size, args.seed, progress=not args.quiet
    )
    result = {
        "model": str(args.model),
        "data": args.data,
        "split": args.split,
        "test_split": data.test_source,
        "images": len(images),
        "bits_per_dim": bpd,
        "preset": flow.config["preset"],
    }
    print(json.dumps(result, indent=2))
    if args.json:
        write_json(args.json, result)
        log.info("Results saved to %s", args.json)
    return 0
