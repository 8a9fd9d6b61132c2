"""GeoTIFF input and output with rasterio, window by window so rasters larger than memory work:
valid-pixel masks (nodata, NaN, user masks), a pixel sample for fitting, streamed prediction and a
streamed majority filter whose windows overlap by half the filter size."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterioIOError
from rasterio.windows import Window

from geomap.metrics import majority_filter

__all__ = [
    "RasterInput",
    "check_same_grid",
    "contingency_raster",
    "filter_raster",
    "predict_raster",
    "read_labels",
    "sample_pixels",
    "windows",
]


def check_same_grid(src, other, name: str) -> None:
    """``other`` must cover the same pixels as ``src``: size, transform and CRS."""
    if (other.height, other.width) != (src.height, src.width):
        raise ValueError(
            f"{name} is {other.height}×{other.width}, the raster {src.height}×{src.width}: "
            "it must be on the same grid"
        )
    if other.crs != src.crs or not other.transform.almost_equals(src.transform):
        raise ValueError(
            f"{name} has another CRS or transform than the raster: it must be on the same grid"
        )


def windows(height: int, width: int, size: int) -> Iterator[Window]:
    """Row-major tiles of at most ``size``×``size`` covering the raster."""
    for row in range(0, height, size):
        for col in range(0, width, size):
            yield Window(col, row, min(size, width - col), min(size, height - row))


class RasterInput:
    """A multi-band raster opened for reading, with the bands to use and the masks to respect.

    ``bands`` are 1-based band numbers (all when ``None``); a pixel is valid when no selected band
    is nodata or NaN and every mask raster (same grid, non-zero = exclude, e.g. clouds or water)
    is zero there.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        bands: list[int] | None = None,
        masks: list[str | os.PathLike] = (),
    ):
        self.path = Path(path)
        try:
            self.src = rasterio.open(self.path)
        except RasterioIOError as err:
            raise ValueError(f"{self.path}: not a readable raster ({err})") from None
        self.masks = []
        try:
            self._check(bands, masks)
        except BaseException:
            self.close()
            raise

    def _check(self, bands, masks) -> None:
        count = self.src.count
        if bands is not None and not bands:
            raise ValueError("--bands is empty; leave it out to use every band")
        self.bands = list(bands) if bands else list(range(1, count + 1))
        bad = [b for b in self.bands if not 1 <= b <= count]
        if bad:
            raise ValueError(f"bands {bad} do not exist: {self.path} has bands 1..{count}")
        if len(set(self.bands)) != len(self.bands):
            raise ValueError(f"bands must be distinct, got {self.bands}")
        if len(self.bands) < 2:
            raise ValueError(
                f"{self.path}: need at least 2 bands to map units, got {len(self.bands)}"
            )
        for mask in masks:
            try:
                m = rasterio.open(mask)
            except RasterioIOError as err:
                raise ValueError(f"mask {mask}: not a readable raster ({err})") from None
            self.masks.append(m)
            check_same_grid(self.src, m, f"mask {mask}")

    @property
    def shape(self) -> tuple[int, int]:
        return self.src.height, self.src.width

    def read(self, window: Window | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Pixels ``float32 [h*w, bands]`` and the valid mask ``bool [h, w]`` of a window."""
        data = self.src.read(self.bands, window=window, masked=True)
        valid = ~np.ma.getmaskarray(data).any(axis=0)
        values = np.ma.getdata(data).astype(np.float32)
        valid &= np.isfinite(values).all(axis=0)
        for mask in self.masks:
            valid &= mask.read(1, window=window) == 0
        bands, h, w = values.shape
        return values.reshape(bands, h * w).T, valid

    def close(self) -> None:
        for ds in (self.src, *self.masks):
            ds.close()

    def __enter__(self) -> RasterInput:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _uniform(row: int, col: int, h: int, w: int, width: int, seed: int) -> np.ndarray:
    """A fixed pseudo-random number in [0, 1) per pixel (a hash of its index and the seed), so a
    sample does not depend on how the raster is cut into windows."""
    rows = np.arange(row, row + h, dtype=np.uint64)[:, None]
    cols = np.arange(col, col + w, dtype=np.uint64)[None, :]
    mix = np.uint64((seed * 0x9E3779B97F4A7C15) % (1 << 64))  # Python ints: no overflow warning
    x = rows * np.uint64(width) + cols + mix
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xFF51AFD7ED558CCD)
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xC4CEB9FE1A85EC53)
    x ^= x >> np.uint64(33)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def sample_pixels(
    raster: RasterInput, count: int, window_size: int = 1024, seed: int = 0
) -> tuple[np.ndarray, int]:
    """About ``count`` valid pixels drawn uniformly over the raster (every valid pixel when there
    are fewer), reading one window at a time: a first pass counts the valid pixels, the second
    draws. Returns the sample ``[n, bands]`` and the number of valid pixels in the raster."""
    height, width = raster.shape
    tiles = list(windows(height, width, window_size))
    total_valid = sum(int(raster.read(w)[1].sum()) for w in tiles)
    if total_valid == 0:
        raise ValueError(f"{raster.path}: no valid pixel (all nodata, NaN or masked)")
    fraction = min(1.0, count / total_valid)
    parts, where = [], []
    for w in tiles:
        pixels, valid = raster.read(w)
        u = _uniform(w.row_off, w.col_off, w.height, w.width, width, seed)
        keep = (valid & (u < fraction)).ravel()
        rows, cols = np.divmod(np.flatnonzero(keep), w.width)
        parts.append(pixels[keep])
        where.append((rows + w.row_off) * width + cols + w.col_off)
    order = np.argsort(np.concatenate(where), kind="stable")  # raster order, whatever the windows
    return np.concatenate(parts)[order], total_valid


def _profile(raster: RasterInput) -> dict:
    profile = {
        "driver": "GTiff",
        "height": raster.src.height,
        "width": raster.src.width,
        "count": 1,
        "dtype": "uint8",
        "nodata": 0,
        "crs": raster.src.crs,
        "transform": raster.src.transform,
        "compress": "deflate",
        "BIGTIFF": "IF_SAFER",
    }
    if raster.src.height >= 256 and raster.src.width >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    return profile


def predict_raster(
    raster: RasterInput,
    predict,
    out_path: str | os.PathLike,
    window_size: int = 1024,
    progress: bool = True,
) -> np.ndarray:
    """Label every valid pixel with ``predict(pixels [N, bands]) -> uint8 [N]`` window by window
    into a GeoTIFF with the input's CRS and transform (0 = nodata). Returns the label counts."""
    from tqdm.auto import tqdm

    from app_toolkit.files import atomic_write

    height, width = raster.shape
    counts = np.zeros(256, np.int64)
    tiles = list(windows(height, width, window_size))

    def write(tmp: str) -> None:
        with rasterio.open(tmp, "w", **_profile(raster)) as dst:
            for window in tqdm(tiles, desc="predict", unit="window", disable=not progress):
                pixels, valid = raster.read(window)
                labels = np.zeros(valid.size, np.uint8)
                flat = valid.ravel()
                if flat.any():
                    labels[flat] = predict(pixels[flat])
                counts[:] += np.bincount(labels, minlength=256)
                dst.write(labels.reshape(valid.shape), 1, window=window)

    atomic_write(out_path, write, suffix=".tif")
    return counts


MRF_MAX_PIXELS = 25_000_000  # the Markov random field holds features and label costs in memory


def mrf_raster(
    raster: RasterInput,
    model,
    out_path: str | os.PathLike,
    window_size: int = 1024,
    progress: bool = True,
) -> np.ndarray:
    """Like :func:`predict_raster`, but the labels are those of k-means with a Potts prior
    (:func:`geomap.metrics.spatial_kmeans`) started from the fitted ``model``'s centres, which
    move to where the random field puts them (``model.centers`` is updated). The whole raster's
    features are held in memory: at most :data:`MRF_MAX_PIXELS` pixels."""
    from tqdm.auto import tqdm

    from app_toolkit.files import atomic_write
    from geomap.metrics import spatial_kmeans

    height, width = raster.shape
    if height * width > MRF_MAX_PIXELS:
        raise ValueError(
            f"the Markov random field holds the map in memory: at most {MRF_MAX_PIXELS:,} "
            f"pixels, this raster has {height * width:,}"
        )
    grid = valid_all = None
    for window in tqdm(
        list(windows(height, width, window_size)), desc="features", unit="window",
        disable=not progress,
    ):  # fmt: skip
        pixels, valid = raster.read(window)
        features = np.zeros((valid.size, len(model.centers[0])), np.float32)
        if valid.any():
            features[valid.ravel()] = model.features(pixels[valid.ravel()])
        if grid is None:
            grid = np.zeros((height, width, features.shape[1]), np.float32)
            valid_all = np.zeros((height, width), bool)
        rows = slice(window.row_off, window.row_off + window.height)
        cols = slice(window.col_off, window.col_off + window.width)
        grid[rows, cols] = features.reshape(*valid.shape, -1)
        valid_all[rows, cols] = valid
    labels, model.centers = spatial_kmeans(grid, model.centers, valid_all)
    labels = (labels + 1).astype(np.uint8)  # invalid -1 → 0, nodata

    def write(tmp: str) -> None:
        with rasterio.open(tmp, "w", **_profile(raster)) as dst:
            dst.write(labels, 1)

    atomic_write(out_path, write, suffix=".tif")
    return np.bincount(labels.ravel(), minlength=256)


def filter_raster(
    in_path: str | os.PathLike,
    out_path: str | os.PathLike,
    size: int,
    k: int,
    window_size: int = 1024,
) -> None:
    """Majority filter a label GeoTIFF window by window; each window is read with a margin of
    ``size // 2`` so the result equals filtering the whole map at once."""
    from app_toolkit.files import atomic_write

    half = size // 2
    with rasterio.open(in_path) as src:
        profile = src.profile
        height, width = src.height, src.width

        def write(tmp: str) -> None:
            with rasterio.open(tmp, "w", **profile) as dst:
                for window in windows(height, width, window_size):
                    r0 = max(0, window.row_off - half)
                    c0 = max(0, window.col_off - half)
                    r1 = min(height, window.row_off + window.height + half)
                    c1 = min(width, window.col_off + window.width + half)
                    block = src.read(1, window=Window(c0, r0, c1 - c0, r1 - r0))
                    # Outside the raster the filter counts no votes, inside the margin real
                    # ones: so each window equals the same part of the whole map filtered.
                    filtered = majority_filter(block, size, k)
                    top, left = window.row_off - r0, window.col_off - c0
                    dst.write(
                        filtered[top : top + window.height, left : left + window.width],
                        1,
                        window=window,
                    )

        atomic_write(out_path, write, suffix=".tif")


def contingency_raster(
    predicted: str | os.PathLike, reference: str | os.PathLike, window_size: int = 1024
) -> np.ndarray:
    """:func:`geomap.metrics.contingency` of two label rasters, window by window."""
    from geomap.metrics import contingency

    try:
        ref = rasterio.open(reference)
    except RasterioIOError as err:
        raise ValueError(f"reference {reference}: not a readable raster ({err})") from None
    with rasterio.open(predicted) as pred, ref:
        check_same_grid(pred, ref, f"reference {reference}")
        table = np.zeros((256, 256), np.int64)
        for w in windows(pred.height, pred.width, window_size):
            table += contingency(pred.read(1, window=w), ref.read(1, window=w))
    return table


def read_labels(path: str | os.PathLike, max_pixels: int | None = None) -> np.ndarray:
    """Band 1 of a label raster; with ``max_pixels``, decimated (nearest) to at most that many."""
    try:
        src = rasterio.open(path)
    except RasterioIOError as err:
        raise ValueError(f"{path}: not a readable raster ({err})") from None
    with src:
        step = 1
        if max_pixels is not None:
            while (src.height // step) * (src.width // step) > max_pixels:
                step += 1
        shape = (max(1, src.height // step), max(1, src.width // step))
        return src.read(1, out_shape=shape)
