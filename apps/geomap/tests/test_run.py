import json

import numpy as np
import pytest
import rasterio

from geomap.cli import main
from geomap.pipeline import map_raster
from geomap.synth import make_scene, write_scene

FAST = ["--epochs", "3", "--sample", "5000", "--device", "cpu", "-q"]


def test_output_keeps_the_grid_and_nodata(scene_files, tmp_path):
    out = tmp_path / "out"
    argv = [
        "run",
        scene_files["scene"],
        "--out",
        str(out),
        "--k",
        "4",
        "--mask",
        scene_files["clouds"],
        "--reference",
        scene_files["reference"],
        *FAST,
    ]
    assert main(argv) == 0
    with rasterio.open(scene_files["scene"]) as src, rasterio.open(out / "units.tif") as dst:
        assert dst.crs == src.crs and dst.transform == src.transform
        assert (dst.height, dst.width, dst.count, dst.nodata) == (src.height, src.width, 1, 0)
        labels = dst.read(1)
    scene = scene_files["scene_obj"]
    assert (labels[:5, :7] == 0).all(), "NaN pixels must stay nodata"
    assert (labels[scene.clouds] == 0).all(), "masked pixels must stay nodata"
    valid = ~scene.clouds
    valid[:5, :7] = False
    assert (labels[valid] > 0).all()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["k"] == 4 and metrics["reference"]["accuracy"] > 0.5
    assert metrics["internal"]["davies_bouldin"] > 0
    for name in ("map.png", "confusion.png", "units_raw.tif", "model/model.safetensors"):
        assert (out / name).is_file()
    # a rerun into the same folder is refused, and with --overwrite leaves no stale file
    again = ["run", scene_files["scene"], "--out", str(out), "--k", "3", *FAST]
    assert main(again) == 2
    assert main([*again, "--overwrite"]) == 0
    assert not (out / "confusion.png").exists()
    assert json.loads((out / "metrics.json").read_text())["k"] == 3


def test_windowed_run_equals_in_memory_run(scene_files, tmp_path):
    first = map_raster(scene_files["scene"], tmp_path / "fit", reducer="pca", k=4, progress=False)
    assert first["k"] == 4
    maps = []
    for window in (32, 1024):  # 32: many windows, filter margins crossing their edges
        out = tmp_path / f"w{window}"
        map_raster(
            scene_files["scene"],
            out,
            model=tmp_path / "fit" / "model",
            window=window,
            progress=False,
        )
        with rasterio.open(out / "units.tif") as dst:
            maps.append(dst.read(1))
    assert np.array_equal(maps[0], maps[1])


def test_k_choice_plot_and_metrics_when_k_is_chosen(scene_files, tmp_path):
    out = tmp_path / "out"
    assert (
        main(
            [
                "run",
                scene_files["scene"],
                "--out",
                str(out),
                "--reducer",
                "pca",
                "--k-max",
                "8",
                *FAST,
            ]
        )
        == 0
    )
    assert (out / "k_choice.png").is_file()
    metrics = json.loads((out / "metrics.json").read_text())
    assert 2 <= metrics["k"] <= 8 and metrics["k_chosen_by"] == metrics["k_choice"]["method"]
    assert metrics["k_choice"]["runner_up"] != metrics["k"]
    assert len(metrics["k_choice"]["curve"]) == len(metrics["k_choice"]["ks"]) == 7


def _write(path, data, nodata=None):
    count, height, width = data.shape
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=height,
        width=width,
        count=count,
        dtype=data.dtype,
        nodata=nodata,
    ) as dst:
        dst.write(data)


@pytest.mark.parametrize(
    "case, message",
    [
        ("one_band", "need at least 2 bands"),
        ("all_nodata", "no valid pixel"),
        ("not_a_raster", "not a readable raster"),
        ("missing", "not a readable raster"),
        ("bad_band", "bands [12] do not exist"),
        ("mask_grid", "same grid"),
    ],
)
def test_bad_inputs_are_one_line_errors(scene_files, tmp_path, capsys, case, message):
    path = tmp_path / "in.tif"
    extra = []
    if case == "one_band":
        _write(path, np.random.default_rng(0).random((1, 32, 32), np.float32))
    elif case == "all_nodata":
        _write(path, np.full((3, 32, 32), -9999, np.float32), nodata=-9999)
    elif case == "not_a_raster":
        path.write_text("not a raster")
    elif case == "bad_band":
        path = scene_files["scene"]
        extra = ["--bands", "1,12"]
    elif case == "mask_grid":
        path = scene_files["scene"]
        _write(tmp_path / "mask.tif", np.zeros((1, 10, 10), np.uint8))
        extra = ["--mask", str(tmp_path / "mask.tif")]
    assert main(["run", str(path), "--out", str(tmp_path / "o"), *extra, *FAST]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err


def test_synth_and_bench(tmp_path, capsys):
    assert main(["synth", str(tmp_path / "s"), "--size", "64x80", "--clouds", "0.1", "-q"]) == 0
    with rasterio.open(tmp_path / "s" / "scene.tif") as src:
        assert (src.count, src.height, src.width) == (10, 64, 80)
    assert (tmp_path / "s" / "clouds.tif").is_file()
    result = tmp_path / "bench.json"
    argv = [
        "bench",
        "--size",
        "64x64",
        "--units",
        "3",
        "--k",
        "3",
        "--epochs",
        "2",
        "--reducers",
        "pca,ae",
        "--json",
        str(result),
        "--device",
        "cpu",
        "-q",
    ]
    assert main(argv) == 0
    rows = json.loads(result.read_text())["rows"]
    assert [r["reducer"] for r in rows] == ["pca", "ae"]
    assert all(0 < r["accuracy"] <= 1 for r in rows)
    assert "reducer" in capsys.readouterr().out


def test_the_k_selection_bench_reports_criteria_and_the_supervised_ceiling(tmp_path, capsys):
    result = tmp_path / "scenes.json"
    argv = ["bench", "--scenes", "2", "--scene-size", "48", "--reducers", "raw", "-q"]
    assert main([*argv, "--k-methods", "elbow,gap", "--json", str(result)]) == 0
    out = json.loads(result.read_text())
    assert out["transform"] == "deshaded"
    assert out["k_methods"] == [
        *("elbow", "elbow@segments", "elbow+spatial"),
        *("gap", "gap@segments", "gap+spatial"),
    ]
    assert [r["units"] for r in out["rows"]] == [3, 4]
    for row in out["rows"]:
        assert 2 <= row["k_elbow"] <= 20 and 0 < row["accuracy_elbow"] <= 1
        assert 2 <= row["k_elbow+spatial"] <= row["k_elbow"]
        assert 0 < row["accuracy_elbow_mrf"] <= 1 and 0 < row["accuracy_true_k_mrf"] <= 1
        # three or four distinct library units on a clean scene: nearly separable
        assert 0.85 < row["accuracy_supervised"] <= 1
    assert "supervised ceiling" in capsys.readouterr().out
    assert main([*argv, "--k-methods", "elbow,guess"]) == 2
    assert "--k-methods" in capsys.readouterr().err


def test_separable_scene_set_keeps_units_apart_and_judges_k_on_segments(tmp_path):
    from geomap.bench import BAND_SETS, MIN_ANGLE, scene_set
    from geomap.synth import separable_spectra, spectral_angle

    scenes = scene_set(12, 48, kind="separable")
    assert [s["units"] for s in scenes[:10]] == list(range(3, 13))
    for scene in scenes:
        spectra, bands = np.array(scene["spectra"]), BAND_SETS[scene["bands"]]
        angles = [
            spectral_angle(a[bands], b[bands]) for i, a in enumerate(spectra) for b in spectra[:i]
        ]
        assert min(angles) >= MIN_ANGLE - 0.05 and len(bands) >= 6
        assert scene["noise"] <= 0.01
    assert scene_set(2, 48, kind="separable") == scenes[:2]  # fixed by the seed
    with pytest.raises(ValueError, match="could not draw"):
        separable_spectra(12, np.random.default_rng(0), 30.0, [0, 1, 2, 6], tries=200)
    with pytest.raises(ValueError, match="scene set"):
        scene_set(2, kind="easy")
    result = tmp_path / "sep.json"
    argv = ["bench", "--scenes", "2", "--scene-size", "48", "--reducers", "raw", "-q"]
    assert (
        main([*argv, "--scene-set", "separable", "--k-methods", "elbow", "--json", str(result)])
        == 0
    )
    out = json.loads(result.read_text())
    assert out["set"] == "separable"
    assert out["k_methods"] == ["elbow", "elbow@segments", "elbow+spatial"]
    assert all(2 <= r["k_elbow@segments"] <= 20 for r in out["rows"])


def test_k_judged_on_segments_in_a_run(scene_files, tmp_path):
    out = tmp_path / "seg"
    argv = ["run", scene_files["scene"], "--out", str(out), "--k-on", "segments", "--k-max", "6"]
    assert main([*argv, "--reducer", "raw", "--transform", "deshaded", *FAST]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["k_choice"]["judged"] == "segments" and 2 <= metrics["k"] <= 6
    assert metrics["transform"] == "deshaded"


def test_the_random_field_cleans_a_run_and_keeps_nodata(scene_files, tmp_path):
    out = tmp_path / "mrf"
    argv = ["run", scene_files["scene"], "--out", str(out), "--k", "4", "--cleaning", "mrf"]
    assert (
        main(
            [*argv, "--mask", scene_files["clouds"], "--reference", scene_files["reference"], *FAST]
        )
        == 0
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["cleaning"] == "mrf" and metrics["reference"]["accuracy"] > 0.5
    with rasterio.open(out / "units_raw.tif") as dst:
        raw = dst.read(1)
    assert (raw[scene_files["scene_obj"].clouds] == 0).all() and raw.max() <= 4


def test_sae_maps_the_synthetic_scene(tmp_path):
    """The paper's pipeline recovers the known units of a small synthetic scene."""
    paths = write_scene(tmp_path / "s", make_scene((160, 160), units=5, seed=0))
    metrics = map_raster(
        paths["scene"],
        tmp_path / "sae",
        reducer="sae",
        k=5,
        epochs=15,
        sample=20_000,
        reference=paths["reference"],
        progress=False,
    )
    assert metrics["reference"]["accuracy"] >= 0.85


def test_sample_does_not_depend_on_windows_and_fills_the_count(scene_files):
    from geomap.raster import RasterInput, sample_pixels

    with RasterInput(scene_files["scene"], masks=[scene_files["clouds"]]) as src:
        small, valid = sample_pixels(src, 3000, window_size=16, seed=1)
        large, _ = sample_pixels(src, 3000, window_size=1024, seed=1)
        other, _ = sample_pixels(src, 3000, window_size=1024, seed=2)
    assert np.array_equal(small, large) and not np.array_equal(large, other)
    assert 2700 < len(small) < 3300 and valid < 96 * 128


def test_grids_are_checked_before_work_starts(scene_files, tmp_path, capsys):
    with rasterio.open(scene_files["clouds"]) as src:
        profile, data = src.profile, src.read()
    profile.update(crs="EPSG:4326")
    with rasterio.open(tmp_path / "other_crs.tif", "w", **profile) as dst:
        dst.write(data)
    out = tmp_path / "o"
    for flag in ("--mask", "--reference"):
        argv = [
            "run",
            scene_files["scene"],
            "--out",
            str(out),
            flag,
            str(tmp_path / "other_crs.tif"),
        ]
        assert main([*argv, *FAST]) == 2
        assert "same grid" in capsys.readouterr().err
    assert not out.exists(), "nothing is written when the arguments are wrong"
    assert main(["run", scene_files["scene"], "--out", str(out), "--bands", "1,1,2", *FAST]) == 2
    assert "distinct" in capsys.readouterr().err
