"""``geomap sentinel2``: a real Sentinel-2 scene that ships in a registry package, as a GeoTIFF."""

from __future__ import annotations

import argparse
import logging

from geomap.cli.common import COMMON
from geomap.options import RESAMPLING, SOURCES

log = logging.getLogger("geomap")

EPILOG = """\
sources:
  xrspatial   xarray-spatial 0.5.3's scene: B2 B3 B4 B7 at 10 m, B11 B12 at 20 m, EPSG:32719
  spyndex     spyndex 0.12.0's scene: B2 B3 B4 B8 at 10 m, no georeferencing
  PATH        a folder of NetCDF-3 bands, or a spyndex-style JSON file
  (pip install --no-deps xarray-spatial==0.5.3 spyndex==0.12.0 installs the data, nothing else)

examples:
  geomap sentinel2 xrspatial --out s2.tif --resolution 20          # 10 m bands averaged to 20 m
  geomap sentinel2 xrspatial --out s2_10m.tif --resolution 10 --resampling bilinear
  geomap sentinel2 spyndex --out s2_spyndex.tif
  geomap run s2.tif --out s2_map/
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "sentinel2",
        parents=[COMMON],
        help="write a packaged real Sentinel-2 scene as a GeoTIFF",
        description="Read the bands of a real Sentinel-2 scene (shipped in xarray-spatial or "
        "spyndex, or your own NetCDF-3 bands) and write them as one float32 GeoTIFF, keeping the "
        "CRS and transform where the source has them. Bands at different resolutions are "
        "resampled onto one grid (the extent they all cover) only when --resolution is given.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "source", metavar="SOURCE", help=f"{' or '.join(SOURCES)}, or a folder/file path"
    )
    parser.add_argument("--out", required=True, metavar="TIF", help="output GeoTIFF")
    parser.add_argument(
        "--resolution",
        type=float,
        metavar="M",
        help="resample every band onto this grid spacing in metres (needed for mixed 10/20 m)",
    )
    parser.add_argument(
        "--resampling",
        choices=RESAMPLING,
        help="how bands are resampled: default average when coarsening every band, else bilinear",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from geomap.sentinel2 import load_bands, write_stack

    bands = load_bands(args.source)
    method = args.resampling
    if method is None:  # averaging is the honest way down; bilinear interpolates up
        finest = min((b.resolution or 0.0) for b in bands)
        method = "average" if args.resolution and args.resolution >= finest * 2 else "bilinear"
    written = write_stack(bands, args.out, args.resolution, method, source=str(args.source))
    h, w = written["shape"]
    print(
        f"{written['path']}: {len(written['bands'])} bands ({', '.join(written['bands'])}), "
        f"{h}×{w}, CRS {written['crs'] or 'none'}"
        + (f", resampled ({written['resampling']})" if written["resampling"] else "")
    )
    return 0
