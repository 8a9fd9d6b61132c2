"""Real Sentinel-2 scenes: the packaged NetCDF/JSON bands to a GeoTIFF, and through `geomap run`."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from app_toolkit.testing import assert_one_line_error
from geomap.cli import main
from geomap.sentinel2 import load_bands, write_stack

HAVE_XRSPATIAL = importlib.util.find_spec("xrspatial") is not None
needs_xrspatial = pytest.mark.skipif(
    not HAVE_XRSPATIAL, reason="pip install --no-deps xarray-spatial==0.5.3 (make install does)"
)


def _netcdf_band(
    path, data, band, resolution, origin=(600000.0, 4700020.0), dtype="d", **cf_attributes
):
    """A NetCDF-3 band laid out as xarray-spatial's (2-D variable with GDAL-style attributes)."""
    from scipy.io import netcdf_file

    with netcdf_file(path, "w") as nc:
        nc.createDimension("y", data.shape[0])
        nc.createDimension("x", data.shape[1])
        var = nc.createVariable("__xarray_dataarray_variable__", dtype, ("y", "x"))
        var[:] = data
        for key, value in cf_attributes.items():
            setattr(var, key, value)
        var.transform = np.array([resolution, 0, origin[0], 0, -resolution, origin[1]], float)
        var.crs = b"+init=epsg:32719"
        var.Band = band.encode()
        setattr(var, "Resolution (m)", f" {resolution:g}".encode())


def test_netcdf_bands_keep_their_grid_and_mixed_resolutions_need_a_request(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "nc").mkdir()
    _netcdf_band(tmp_path / "nc" / "red.nc", rng.uniform(500, 3000, (20, 30)), "04", 10)
    _netcdf_band(tmp_path / "nc" / "swir.nc", rng.uniform(500, 3000, (20, 30)), "11", 20)
    bands = load_bands(tmp_path / "nc")
    assert [b.name for b in bands] == ["B04", "B11"] and bands[0].crs == "EPSG:32719"
    with pytest.raises(ValueError, match="different grids.*10 m: B04; 20 m: B11"):
        write_stack(bands, tmp_path / "x.tif")
    info = write_stack(bands, tmp_path / "s2.tif", resolution=20, resampling="average")
    with rasterio.open(tmp_path / "s2.tif") as src:
        assert src.crs.to_epsg() == 32719 and src.res == (20.0, 20.0)
        assert (src.height, src.width) == (10, 15)  # the extent both bands cover
        assert src.tags()["resampling"] == "average" and src.descriptions == ("B04", "B11")
        stack = src.read()
    assert info["resampling"] == "average" and np.isfinite(stack).all()
    # averaging 2×2 blocks of the 10 m band is what lands on the 20 m grid
    expected = bands[0].data.reshape(10, 2, 15, 2).mean((1, 3))
    assert np.allclose(stack[0], expected, rtol=1e-5)


def test_netcdf_fill_values_become_nodata_and_scale_factor_applies(tmp_path):
    stored = np.array([[1200, 1500], [-9999, 3000]], np.int16)
    path = tmp_path / "b04.nc"
    _netcdf_band(
        path, stored, "04", 10, dtype="h", _FillValue=np.int16(-9999), scale_factor=1e-4,
        add_offset=-0.1,
    )  # fmt: skip
    (band,) = load_bands(path)
    assert np.isnan(band.data[1, 0])
    assert np.allclose(band.data[[0, 0, 1], [0, 1, 1]], [0.02, 0.05, 0.2], atol=1e-6)


def test_a_truncated_netcdf_is_one_line_naming_the_file(tmp_path, capsys):
    _netcdf_band(tmp_path / "b04.nc", np.ones((40, 50)), "04", 10)
    whole = (tmp_path / "b04.nc").read_bytes()
    (tmp_path / "cut.nc").write_bytes(whole[: len(whole) - 1001])
    code = main(["sentinel2", str(tmp_path / "cut.nc"), "--out", str(tmp_path / "s.tif")])
    assert_one_line_error(code, capsys.readouterr().err, 2, "cut.nc: not a readable NetCDF-3")


def test_an_absurd_resolution_is_refused_before_allocating(tmp_path, capsys):
    (tmp_path / "nc").mkdir()
    _netcdf_band(tmp_path / "nc" / "red.nc", np.ones((20, 30)), "04", 10)
    _netcdf_band(tmp_path / "nc" / "swir.nc", np.ones((20, 30)), "11", 20)
    argv = ["sentinel2", str(tmp_path / "nc"), "--out", str(tmp_path / "s.tif")]
    code = main([*argv, "--resolution", "0.001"])
    assert_one_line_error(code, capsys.readouterr().err, 2, "choose a coarser resolution")
    assert not (tmp_path / "s.tif").exists()


@needs_xrspatial
def test_the_packaged_scene_is_mapped_on_its_own_grid(tmp_path):
    assert main(["sentinel2", "xrspatial", "--out", str(tmp_path / "s2.tif"),
                 "--resolution", "20", "-q"]) == 0  # fmt: skip
    with rasterio.open(tmp_path / "s2.tif") as src:
        assert src.count == 6 and src.crs.to_epsg() == 32719
        assert (src.height, src.width) == (100, 150)
        profile = src.profile
        crop_window = Window(10, 20, 64, 48)
        crop = src.read(window=crop_window)
        profile.update(width=64, height=48, transform=src.window_transform(crop_window))
    with rasterio.open(tmp_path / "crop.tif", "w", **profile) as dst:
        dst.write(crop)
    out = tmp_path / "map"
    assert main(["run", str(tmp_path / "crop.tif"), "--out", str(out), "--reducer", "pca",
                 "--k-max", "6", "--sample", "3072", "-q"]) == 0  # fmt: skip
    with rasterio.open(out / "units.tif") as units, rasterio.open(tmp_path / "crop.tif") as src:
        assert units.crs == src.crs and units.transform == src.transform
        labels = units.read(1)
    assert labels.shape == (48, 64) and (labels > 0).all()  # every valid pixel labelled
    metrics = json.loads((out / "metrics.json").read_text())
    assert (
        metrics["internal"]["calinski_harabasz"] > 0 and metrics["internal"]["davies_bouldin"] > 0
    )
    assert 2 <= metrics["k"] <= 6


@pytest.mark.skipif(importlib.util.find_spec("spyndex") is None, reason="spyndex not installed")
def test_the_spyndex_scene_has_four_10m_bands_and_no_georeferencing(tmp_path):
    bands = load_bands("spyndex")
    assert [b.name for b in bands] == ["B02", "B03", "B04", "B08"]
    assert bands[0].data.shape == (300, 300) and bands[0].transform is None
    info = write_stack(bands, tmp_path / "sp.tif")
    assert info["crs"] is None and info["shape"] == [300, 300]
