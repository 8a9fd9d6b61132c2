"""``core-flows info``: parameters, layers and config of a model."""

from __future__ import annotations

import argparse
import json
from collections import Counter

from app_toolkit.cli import COMMON
from core_flows.cli.sample import add_model_argument


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "info",
        parents=[COMMON],
        help="parameters, layers and config of a model",
        description="Print a model's config, parameter counts per part and its layer types.",
    )
    add_model_argument(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from core_flows.pretrained_models import count_parameters, load_flow

    flow = load_flow(args.model, args.device)
    parts = {
        "steps": sum(count_parameters(b) for b in flow.blocks),
        "split priors": count_parameters(flow.priors),
    }
    layers = Counter(type(m).__name__ for b in flow.blocks for step in b for m in step)
    info = {
        "model": str(args.model),
        "parameters": count_parameters(flow),
        "parameters_by_part": parts,
        "layers": dict(layers),
        "latent_shapes": [list(s) for s in flow.latent_shapes],
        "config": flow.config,
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"model       {info['model']}")
    print(
        f"parameters  {info['parameters']:,}  ({', '.join(f'{k} {v:,}' for k, v in parts.items())})"
    )
    print(f"layers      {', '.join(f'{v}× {k}' for k, v in layers.items())}")
    print(f"latents     {', '.join('×'.join(map(str, s)) for s in flow.latent_shapes)}")
    for key, value in flow.config.items():
        print(f"  {key:<16}{value}")
    return 0
