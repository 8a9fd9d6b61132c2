"""``geomap synth``: a synthetic multispectral scene with a known unit map."""

from __future__ import annotations

import argparse
import logging

from geomap.cli.common import COMMON, size

log = logging.getLogger("geomap")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "synth",
        parents=[COMMON],
        help="write a synthetic scene with a known unit map",
        description="Write scene.tif (10 Sentinel-2-like bands, reflectance), reference.tif (the "
        "true units) and, with --clouds, clouds.tif: rock units as warped cells with distinct "
        "spectra, mixed pixels along contacts, shading and noise.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("out", metavar="DIR", help="output folder")
    parser.add_argument("--size", type=size, default=(512, 512), help="HEIGHTxWIDTH")
    parser.add_argument("--units", type=int, default=6, help="number of rock units (2..12)")
    parser.add_argument("--noise", type=float, default=0.01, help="sensor noise (reflectance)")
    parser.add_argument("--clouds", type=float, default=0.0, help="cloud-covered fraction")
    parser.add_argument("--pixel-size", type=float, default=20.0, help="metres per pixel")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from geomap.synth import make_scene, write_scene

    scene = make_scene(args.size, args.units, args.seed, args.noise, clouds=args.clouds)
    paths = write_scene(args.out, scene, args.pixel_size)
    log.info("Units: %s", ", ".join(scene.names))
    log.info("Results saved to %s (%s)", args.out, ", ".join(sorted(paths)))
    return 0
