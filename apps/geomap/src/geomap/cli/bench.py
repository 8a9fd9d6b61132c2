"""``geomap bench``: accuracy and speed of each reducer on a synthetic scene, or (``--scenes N``)
the k-selection benchmark over many scenes."""

from __future__ import annotations

import argparse
import logging
import tempfile

from app_toolkit.cli import add_device_option
from app_toolkit.files import write_json
from geomap.cli.common import COMMON, size
from geomap.options import DEFAULT_TRANSFORM, K_METHODS, MIN_ANGLE, REDUCERS, SCENE_SETS, TRANSFORMS

log = logging.getLogger("geomap")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "bench",
        parents=[COMMON],
        help="accuracy and speed of each reducer on synthetic scenes; k selection",
        description="Map the default synthetic scene (or one of --size) with each reducer and "
        "compare with its known units: accuracy (after optimal label matching, after and before "
        "the majority filter), adjusted Rand index, internal indices, pixels per second. With "
        "--scenes N: N scenes with 3-12 units (fixed seeds; rock types, noise, contact mixing "
        "and bands varied), each reducer, and for each k-selection criterion the share of "
        "scenes where it finds the true k and the accuracy with the k it chose.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--size", type=size, default=(512, 512), help="HEIGHTxWIDTH")
    parser.add_argument("--units", type=int, default=6, help="units in the scene")
    parser.add_argument("--k", type=int, help="number of clusters (default: chosen)")
    parser.add_argument("--reducers", default=",".join(REDUCERS), help="comma-separated reducers")
    parser.add_argument(
        "--scenes", type=int, help="run the k-selection benchmark on this many scenes (>= 1)"
    )
    parser.add_argument("--scene-size", type=int, default=160, help="side of those scenes")
    parser.add_argument(
        "--scene-set", choices=SCENE_SETS, default="hard",
        help="hard: library rock spectra, some nearly alike; separable: spectra at least "
        f"{MIN_ANGLE:g}° apart (--scenes)",
    )  # fmt: skip
    parser.add_argument(
        "--k-methods", default=",".join(K_METHODS), help="comma-separated criteria (--scenes)"
    )
    parser.add_argument(
        "--transform", choices=TRANSFORMS, default=DEFAULT_TRANSFORM, help="band values clustered"
    )
    parser.add_argument("--epochs", type=int, default=30, help="autoencoder epochs")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    add_device_option(parser)
    parser.add_argument("--out", metavar="DIR", help="keep the scene and maps here")
    parser.add_argument("--json", metavar="FILE", help="also write the result as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app_toolkit.devices import resolve_device
    from geomap.bench import bench, format_bench, format_scenes_bench, scene_set, scenes_bench

    reducers = tuple(r.strip() for r in args.reducers.split(",") if r.strip())
    bad = [r for r in reducers if r not in REDUCERS]
    if bad or not reducers:
        raise ValueError(f"--reducers must list {REDUCERS}, got {args.reducers!r}")
    if args.scenes is not None:
        if args.scenes < 1 or args.scene_size < 32:
            raise ValueError("--scenes must be >= 1 and --scene-size >= 32")
        methods = tuple(m.strip() for m in args.k_methods.split(",") if m.strip())
        if not methods or any(m not in K_METHODS for m in methods):
            raise ValueError(f"--k-methods must list {K_METHODS}, got {args.k_methods!r}")
        result = scenes_bench(
            scene_set(args.scenes, args.scene_size, seed=1000 + args.seed, kind=args.scene_set),
            reducers=reducers,
            k_methods=methods,
            transform=args.transform,
            epochs=args.epochs,
            progress=not args.quiet,
        )
        print(format_scenes_bench(result))
        if args.json:
            write_json(args.json, result)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        result = bench(
            args.out or tmp,
            reducers=reducers,
            size=args.size,
            units=args.units,
            k=args.k,
            epochs=args.epochs,
            seed=args.seed,
            transform=args.transform,
            device=str(resolve_device(args.device)),
        )
    print(format_bench(result))
    if args.json:
        write_json(args.json, result)
        log.info("Results saved to %s", args.json)
    return 0
