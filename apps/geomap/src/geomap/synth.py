"""Synthetic multispectral scenes with a known map of rock units, for the demo, tests and benchmark.

A scene has ``units`` rock units laid out as warped Voronoi cells (smooth, irregular contacts, as
mapped units are), each with its own reflectance spectrum over Sentinel-2-like bands. Pixels near a
contact mix the neighbouring spectra (a sub-pixel mixture blurred across the boundary), every pixel
gets a smooth illumination factor (topographic shading) and sensor noise, and optional clouds cover
parts of the scene with a bright, flat spectrum and are flagged in a mask. Real scenes are harder
(weathering, vegetation, units with overlapping spectra): these scenes test the tool, they do not
stand in for a field map.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

__all__ = [
    "BANDS",
    "SIGNATURES",
    "Scene",
    "make_scene",
    "separable_spectra",
    "spectral_angle",
    "write_scene",
]

# Centre wavelengths (nm) of the Sentinel-2 bands at 10 and 20 m: B2 B3 B4 B5 B6 B7 B8 B8A B11 B12.
BANDS = (490, 560, 665, 705, 740, 783, 842, 865, 1610, 2190)

# Reflectance spectra of typical units at BANDS (0..1): the shapes follow library spectra of
# these materials (iron-oxide slope in the visible, clay and carbonate dips in the SWIR).
SIGNATURES = {
    "granite": (0.20, 0.23, 0.26, 0.28, 0.29, 0.30, 0.31, 0.31, 0.34, 0.30),
    "basalt": (0.07, 0.08, 0.08, 0.09, 0.09, 0.09, 0.10, 0.10, 0.11, 0.10),
    "limestone": (0.32, 0.36, 0.39, 0.40, 0.41, 0.42, 0.43, 0.43, 0.46, 0.36),
    "sandstone": (0.12, 0.17, 0.25, 0.29, 0.31, 0.33, 0.35, 0.35, 0.40, 0.38),
    "shale": (0.10, 0.12, 0.14, 0.15, 0.16, 0.17, 0.18, 0.18, 0.22, 0.17),
    "schist": (0.14, 0.16, 0.17, 0.19, 0.21, 0.23, 0.25, 0.25, 0.24, 0.21),
    "alluvium": (0.16, 0.19, 0.22, 0.24, 0.26, 0.28, 0.30, 0.30, 0.33, 0.28),
    "ophiolite": (0.06, 0.08, 0.07, 0.10, 0.14, 0.16, 0.18, 0.18, 0.12, 0.09),
    "quartzite": (0.38, 0.42, 0.45, 0.46, 0.47, 0.48, 0.49, 0.49, 0.52, 0.48),
    "laterite": (0.06, 0.10, 0.20, 0.25, 0.27, 0.28, 0.29, 0.29, 0.38, 0.36),
    "gypsum": (0.55, 0.58, 0.60, 0.61, 0.62, 0.62, 0.63, 0.63, 0.48, 0.30),
    "dolerite": (0.09, 0.10, 0.11, 0.13, 0.15, 0.17, 0.20, 0.20, 0.17, 0.13),
}


def spectral_angle(a: np.ndarray, b: np.ndarray) -> float:
    """Angle in degrees between two spectra: blind to brightness, so to shading."""
    cosine = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    return float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))))


def separable_spectra(
    units: int,
    rng: np.random.Generator,
    min_angle: float = 8.0,
    bands: list[int] | None = None,
    tries: int = 100_000,
) -> np.ndarray:
    """``float32 [units, len(BANDS)]`` random smooth reflectance spectra (an albedo times the
    exponential of a slope and two absorption or reflection bumps), every pair at least
    ``min_angle`` degrees apart over ``bands`` (indices into :data:`BANDS`; all by default), so
    that units differ in spectral shape, not only in brightness. Raises ``ValueError`` when
    ``tries`` draws do not give that many (12 units at 8° need 6 or more bands)."""
    wavelength = np.array(BANDS, np.float64) / 1000
    bands = list(range(len(BANDS))) if bands is None else list(bands)
    spectra: list[np.ndarray] = []
    for _ in range(tries):
        shape = rng.uniform(-0.4, 0.4) * (wavelength - 1.2)
        for _ in range(2):
            centre, width = rng.uniform(0.45, 2.3), rng.uniform(0.08, 0.4)
            shape += rng.uniform(-0.35, 0.35) * np.exp(-0.5 * ((wavelength - centre) / width) ** 2)
        spectrum = np.clip(rng.uniform(0.06, 0.5) * np.exp(shape), 0.01, 0.95)
        if all(spectral_angle(spectrum[bands], s[bands]) >= min_angle for s in spectra):
            spectra.append(spectrum)
            if len(spectra) == units:
                return np.array(spectra, np.float32)
    raise ValueError(
        f"could not draw {units} spectra {min_angle}° apart over {len(bands)} bands; "
        "lower the angle or use more bands"
    )


@dataclass
class Scene:
    """``image`` float32 ``[bands, H, W]`` reflectance, ``units`` uint8 ``[H, W]`` (1..n; 0 where
    clouded), ``clouds`` bool ``[H, W]``, ``names`` of the units in label order."""

    image: np.ndarray
    units: np.ndarray
    clouds: np.ndarray
    names: list[str]


def _smooth_field(rng: np.random.Generator, shape, scale: float) -> np.ndarray:
    field = ndimage.gaussian_filter(rng.normal(size=shape), scale, mode="wrap")
    return field / (field.std() + 1e-12)


def make_scene(
    size: tuple[int, int] = (256, 256),
    units: int = 6,
    seed: int = 0,
    noise: float = 0.01,
    mixing: float = 1.5,
    clouds: float = 0.0,
    names: list[str] | None = None,
    spectra: np.ndarray | None = None,
) -> Scene:
    """A scene of ``size = (height, width)`` with ``units`` rock units (the first ``units`` of
    :data:`SIGNATURES`, or those ``names``, or the given ``spectra [units, len(BANDS)]``, named
    ``unit 1`` …); ``noise`` is the sensor noise (reflectance units),
    ``mixing`` the width (pixels) of mixed pixels along contacts, ``clouds`` the cloud-covered
    fraction."""
    height, width = size
    if not 2 <= units <= len(SIGNATURES):
        raise ValueError(f"units must be in 2..{len(SIGNATURES)}, got {units}")
    if height < 16 or width < 16:
        raise ValueError(f"size must be at least 16×16, got {height}×{width}")
    if not 0.0 <= clouds < 1.0:
        raise ValueError(f"clouds must be a fraction in [0, 1), got {clouds}")
    if names is not None and (len(names) != units or not set(names) <= set(SIGNATURES)):
        raise ValueError(f"names must be {units} of {', '.join(SIGNATURES)}, got {names}")
    rng = np.random.default_rng(seed)
    if spectra is not None:
        spectra = np.asarray(spectra, np.float32)
        if spectra.shape != (units, len(BANDS)):
            raise ValueError(f"spectra must be {units}×{len(BANDS)}, got {spectra.shape}")
        names = [f"unit {u + 1}" for u in range(units)]
    else:
        names = list(names) if names is not None else list(SIGNATURES)[:units]
        spectra = np.array([SIGNATURES[n] for n in names], np.float32)

    # Warped Voronoi cells: a few seeds per unit, coordinates displaced by smooth noise.
    n_cells = units * 3
    centres = rng.uniform(0, 1, (n_cells, 2)) * [height, width]
    cell_unit = np.concatenate([np.arange(units), rng.integers(0, units, n_cells - units)])
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    warp = 0.08 * max(height, width)
    yy = yy + warp * _smooth_field(rng, size, max(height, width) / 10)
    xx = xx + warp * _smooth_field(rng, size, max(height, width) / 10)
    dist = (yy[None] - centres[:, 0, None, None]) ** 2 + (xx[None] - centres[:, 1, None, None]) ** 2
    labels = cell_unit[np.argmin(dist, axis=0)]

    # Abundances: one-hot maps blurred across contacts, so boundary pixels are mixtures.
    abundance = np.stack([(labels == u).astype(np.float32) for u in range(units)])
    if mixing > 0:
        abundance = ndimage.gaussian_filter(abundance, (0, mixing, mixing))
    abundance /= abundance.sum(axis=0, keepdims=True)
    image = np.einsum("uhw,ub->bhw", abundance, spectra)
    # Within-unit variability (texture) and topographic shading.
    image *= 1 + 0.04 * _smooth_field(rng, (1, height, width), 3)
    image *= 1 + 0.08 * _smooth_field(rng, (1, height, width), max(height, width) / 6)
    image += rng.normal(0, noise, image.shape)

    cloud_mask = np.zeros(size, bool)
    if clouds > 0:
        field = _smooth_field(rng, size, max(height, width) / 12)
        cloud_mask = field > np.quantile(field, 1 - clouds)
        cover = np.clip(ndimage.gaussian_filter(cloud_mask.astype(np.float32), 2) * 1.5, 0, 1)
        image = image * (1 - cover) + 0.6 * cover
    units_map = (labels + 1).astype(np.uint8)
    units_map[cloud_mask] = 0
    return Scene(np.clip(image, 0, 1).astype(np.float32), units_map, cloud_mask, names)


def write_scene(out_dir: str | os.PathLike, scene: Scene, pixel_size: float = 20.0) -> dict:
    """Write ``scene.tif`` (float32 reflectance, nodata NaN), ``reference.tif`` (units, 0 =
    unknown) and, when clouded, ``clouds.tif`` (1 = cloud), georeferenced in UTM zone 33N."""
    import rasterio
    from rasterio.transform import from_origin

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    bands, height, width = scene.image.shape
    profile = {
        "driver": "GTiff",
        "height": height,
        "width": width,
        "crs": "EPSG:32633",
        "transform": from_origin(500000.0, 4500000.0, pixel_size, pixel_size),
        "compress": "deflate",
    }
    if height >= 256 and width >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    paths = {"scene": out_dir / "scene.tif", "reference": out_dir / "reference.tif"}
    with rasterio.open(
        paths["scene"], "w", count=bands, dtype="float32", nodata=float("nan"), **profile
    ) as dst:
        dst.write(scene.image)
        for i, nm in enumerate(BANDS, start=1):
            dst.set_band_description(i, f"B{i} {nm} nm")
    with rasterio.open(paths["reference"], "w", count=1, dtype="uint8", nodata=0, **profile) as dst:
        dst.write(scene.units, 1)
        dst.update_tags(units=",".join(scene.names))
    if scene.clouds.any():
        paths["clouds"] = out_dir / "clouds.tif"
        with rasterio.open(paths["clouds"], "w", count=1, dtype="uint8", **profile) as dst:
            dst.write(scene.clouds.astype(np.uint8), 1)
    return {k: str(v) for k, v in paths.items()}
