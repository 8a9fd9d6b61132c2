"""``core-flows interpolate``: decode a straight line between two images' latents."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from app_toolkit.cli import COMMON
from core_flows.cli.sample import add_model_argument
from core_flows.cli.train import add_data_arguments, load_data

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "interpolate",
        parents=[COMMON],
        help="latent interpolation between image pairs, as a PNG grid",
        description="Encode pairs of test images (every level's latent), interpolate linearly and "
        "decode; one row per pair, endpoints are the reconstructed images.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_model_argument(p)
    add_data_arguments(p)
    p.add_argument("--pairs", type=int, default=4, help="number of image pairs (rows)")
    p.add_argument("--points", type=int, default=8, help="images per row, endpoints included")
    p.add_argument("--seed", type=int, default=0, help="seed choosing the pairs")
    p.add_argument("--upscale", type=int, default=4, help="nearest-neighbour zoom of each image")
    p.add_argument("--out", type=Path, default=Path("interpolation.png"), help="PNG to write")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from app_toolkit.plots import save_grid
    from core_flows.pretrained_models import load_flow
    from core_flows.sampling import interpolate

    if args.out.exists() and not args.overwrite:
        raise ValueError(f"{args.out} exists; pass --overwrite to replace it")
    if args.pairs < 1 or args.points < 2 or args.upscale < 1:
        raise ValueError("--pairs and --upscale must be >= 1 and --points >= 2")
    flow = load_flow(args.model, args.device)
    data = load_data(args)
    if tuple(data.image_shape) != flow.image_shape:
        raise ValueError(
            f"{args.data} images are {data.image_shape}, the model's {flow.image_shape}"
        )
    device = next(flow.parameters()).device
    order = torch.randperm(len(data.test), generator=torch.Generator().manual_seed(args.seed))
    if len(order) < 2 * args.pairs:
        raise ValueError(f"the test split has {len(order)} images, fewer than 2×{args.pairs}")
    # the centre of each quantisation bin: interpolation shows the data, not dequantisation noise
    images = (data.test[order[: 2 * args.pairs]].float() + 0.5) / data.num_levels
    rows = [
        interpolate(flow, images[2 * i].to(device), images[2 * i + 1].to(device), args.points)
        for i in range(args.pairs)
    ]
    save_grid(torch.cat(rows), args.out, nrow=args.points, upscale=args.upscale)
    log.info("Results saved to %s", args.out)
    return 0
