import json
import subprocess
import sys

import pytest

from core_flows.benchmark import bench_conv
from core_flows.cli import main


def test_help_explains_subcommands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "conv", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--batch", "--channels", "--size", "--kernel-size", "--backends", "--json"):
        assert option in out


def test_bench_conv_prints_table_and_writes_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    code = main(
        [
            "bench",
            "conv",
            "-q",
            "--batch",
            "2",
            "--channels",
            "4",
            "--size",
            "6",
            "--repeats",
            "2",
            "--warmup",
            "0",
            "--json",
            str(path),
        ]
    )
    assert code == 0
    table = capsys.readouterr().out
    assert "wavefront" in table and "sequential" in table and "dense" in table
    result = json.loads(path.read_text())
    rows = {r["backend"]: r for r in result["rows"]}
    assert set(rows) == {"torch.conv2d", "wavefront", "sequential", "dense"}
    for name in ("wavefront", "sequential", "dense"):
        assert rows[name]["max_abs_error"] < 1e-4
        assert rows[name]["median_ms"] > 0
    assert result["environment"]["device"] == "cpu"


def test_bench_skips_dense_for_large_images():
    result = bench_conv(batch=1, channels=8, size=24, backends=["dense"], repeats=1, warmup=0)
    assert "skipped" in result["rows"][1]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["bench", "conv", "--backends", "magic", "--repeats", "1"], "unknown backend 'magic'"),
        (["bench", "conv", "--device", "tpu"], "device must be"),
    ],
)
def test_bad_input_is_one_line_with_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_console_entry_point_runs():
    out = subprocess.run(
        [sys.executable, "-m", "core_flows", "env"], capture_output=True, text=True, check=True
    ).stdout
    assert "torch" in out and "core-flows" in out


def test_train_sample_evaluate_interpolate_info_workflow(tmp_path, capsys):
    run = tmp_path / "run"
    tiny = ["--levels", "2", "--steps", "1", "--width", "8", "--batch-size", "128"]
    assert (
        main(["train", "--out", str(run), "--epochs", "1", "--lr-schedule", "cosine", "-q", *tiny])
        == 0
    )
    assert (run / "model" / "config.json").is_file() and (run / "metrics.json").is_file()
    # a second run into the same folder must not overwrite silently
    assert main(["train", "--out", str(run), "--epochs", "1", "-q", *tiny]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(["train", "--out", str(run), "--epochs", "2", "--resume", "-q", *tiny]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert [h["epoch"] for h in metrics["history"]] == [1, 2]

    assert main(["sample", str(run), "--out", str(tmp_path / "s.png"), "-n", "4", "-q"]) == 0
    assert (tmp_path / "s.png").is_file() and (tmp_path / "s.json").is_file()
    capsys.readouterr()
    assert main(["evaluate", str(run), "-q", "--json", str(tmp_path / "e.json")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["images"] == 180 and 0 < result["bits_per_dim"] < 10
    assert json.loads((tmp_path / "e.json").read_text()) == result
    png = tmp_path / "i.png"
    assert main(["interpolate", str(run), "--out", str(png), "--pairs", "2", "-q"]) == 0
    assert png.is_file()
    assert main(["info", str(run), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["config"]["preset"] == "finc" and info["parameters"] > 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["sample", "no-such-model"], "neither a model folder nor a shipped model"),
        (["train", "--out", "x", "--data", "npz:/nonexistent.npz"], "does not exist"),
        (["evaluate", "finc-digits", "--data", "lfw"], "the model expects"),
        (["sample", "finc-digits", "--nrow", "-1"], "--nrow and --upscale"),
        (["train", "--out", "x", "--max-steps", "0"], "--max-steps must be >= 1"),
    ],
)
def test_workflow_errors_are_one_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_bench_sampling_and_train_write_tables_json_and_plot(tmp_path, capsys):
    path, plot = tmp_path / "sampling.json", tmp_path / "sampling.png"
    argv = [
        "bench",
        "sampling",
        "-q",
        "--configs",
        "mnist",
        "--batches",
        "1,2",
        "--width",
        "8",
        "--steps",
        "1",
        "--repeats",
        "1",
        "--json",
        str(path),
        "--plot",
        str(plot),
    ]
    assert main(argv) == 0
    result = json.loads(path.read_text())
    rows = {(r["preset"], r["batch"]): r for r in result["rows"]}
    assert rows[("glow", 1)]["sample_vs_glow"] == 1.0
    for preset in ("cinc", "finc", "inverse_flow", "emerging", "finc-wavefront"):
        assert rows[(preset, 2)]["sample_ms"] > 0 and rows[(preset, 2)]["parameters"] > 0
        assert rows[(preset, 2)]["round_trip_max_error"] < 1e-4
    assert "skipped" in rows[("finc-published", 1)]  # a GPU kernel; CPU tests have no CUDA
    assert plot.is_file()
    assert (
        main(
            [
                "bench",
                "train",
                "--config",
                "mnist",
                "--batch",
                "2",
                "--width",
                "8",
                "--steps",
                "1",
                "--repeats",
                "1",
            ]
        )
        == 0
    )
    table = capsys.readouterr().out
    assert "inverse_flow" in table and "× finc" in table


def write_mnist(root, names):
    """Tiny IDX files in torchvision's layout: digit-like 28×28 images, a white stroke on black."""
    import numpy as np

    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name, n in names.items():
        rng = np.random.default_rng(n)
        images = np.zeros((n, 28, 28), np.uint8)
        for image in images:
            col = int(rng.integers(9, 17))
            image[5:23, col : col + 3] = 255
        header = np.array([2051, n, 28, 28], dtype=">i4").tobytes()
        (raw / name).write_bytes(header + images.tobytes())


def test_evaluate_the_shipped_mnist_flow_with_and_without_the_test_files(tmp_path, capsys):
    write_mnist(tmp_path, {"train-images-idx3-ubyte": 60})
    assert main(["evaluate", "finc-mnist", "--data", f"mnist:{tmp_path}", "-q"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["images"] == 10 and result["test_split"].startswith("validation split")
    assert 0 < result["bits_per_dim"] < 8  # a stroke on black: far better than uniform
    write_mnist(tmp_path, {"t10k-images-idx3-ubyte": 4})
    assert main(["evaluate", "finc-mnist", "--data", f"mnist:{tmp_path}", "-q"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["images"] == 4 and result["test_split"] == "test set"


def test_a_bad_mnist_file_is_one_line(tmp_path, capsys):
    write_mnist(tmp_path, {"train-images-idx3-ubyte": 3})
    path = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-5])
    assert main(["evaluate", "finc-mnist", "--data", f"mnist:{tmp_path}", "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "truncated or not an MNIST file" in err[0]
