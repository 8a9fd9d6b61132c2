import json
import socket

import pytest

from traffic_signs.cli import main
from traffic_signs.synth import write_drive


@pytest.fixture
def network_attempts(monkeypatch):
    """Every connection attempt, recorded (and refused) even if the caller swallows the error."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("tests must not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp("scenes")
    assert main(["synth", str(root), "--train", "8", "--val", "4", "--per-class", "4", "-q"]) == 0
    return root


@pytest.fixture(scope="module")
def models(scenes, tmp_path_factory):
    """A detector and a context classifier trained for one epoch (only the format matters)."""
    out = tmp_path_factory.mktemp("models")
    argv = ["train", str(scenes / "detect" / "data.yaml"), "--out", str(out / "det")]
    assert main([*argv, "--epochs", "1", "--imgsz", "128", "--batch", "4", "-q"]) == 0
    argv = ["missing", "train", str(scenes / "missing"), "--out", str(out / "ctx")]
    assert main([*argv, "--epochs", "1", "--imgsz", "64", "--batch", "8", "-q"]) == 0
    return out / "det" / "model", out / "ctx" / "model"


def test_help_lists_the_subcommands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name in ("audit", "detect", "missing", "train", "val", "synth", "env"):
        assert name in out


def test_train_writes_a_model_that_val_accepts_offline(scenes, models, tmp_path, network_attempts):
    detector, _ = models
    assert (detector / "config.json").is_file() and (detector / "model.safetensors").is_file()
    argv = ["val", str(scenes / "detect" / "data.yaml"), "--weights", str(detector)]
    assert main([*argv, "--out", str(tmp_path), "--imgsz", "128", "-q"]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert 0 <= metrics["map50_95"] <= metrics["map50"] <= 1
    assert network_attempts == []
    assert not list(scenes.rglob("*.cache")), "ultralytics wrote label caches into the dataset"


def test_detect_images_and_video_frame_by_frame(scenes, models, tmp_path, network_attempts):
    detector, _ = models
    src = tmp_path / "src"
    src.mkdir()
    image = sorted((scenes / "detect" / "images" / "val").glob("*.png"))[0]
    (src / "scene.png").write_bytes(image.read_bytes())
    (src / "broken.png").write_bytes(b"\x89PNG not really")
    frames = 2 * len(write_drive(src / "drive.mp4", seconds=2, fps=2))
    out = tmp_path / "out"
    argv = ["detect", str(src), "--out", str(out), "--weights", str(detector), "--conf", "0.01"]
    assert main([*argv, "-q"]) == 0
    result = json.loads((out / "detections.json").read_text())
    video = [r for r in result["frames"] if r["file"] == "drive.mp4"]
    assert [r["frame"] for r in video] == list(range(frames))
    assert [r["time"] for r in video] == pytest.approx([i / 2 for i in range(frames)], abs=1e-3)
    assert len(result["skipped"]) == 1 and "broken.png" in result["skipped"][0]
    for r in result["frames"]:
        for d in r["detections"]:
            assert set(d) == {"class", "confidence", "box"} and len(d["box"]) == 4
    assert (out / "scene.png").is_file() and (out / "drive" / "frame_000000.png").is_file()
    assert (out / "detections.csv").read_text().startswith("file,frame,time_s,class")
    assert network_attempts == []


def test_missing_evaluate_predict_and_audit(scenes, models, tmp_path, capsys, network_attempts):
    detector, context = models
    test_split = scenes / "missing" / "test"
    argv = ["missing", "evaluate", str(test_split), "--weights", str(context)]
    assert main([*argv, "--json", str(tmp_path / "ctx.json"), "-q"]) == 0
    result = json.loads((tmp_path / "ctx.json").read_text())
    assert result["images"] == 5 and 0 <= result["top1"] <= 1
    image = next((test_split / "left_curve").glob("*.png"))
    argv = ["missing", "predict", str(image), "--weights", str(context)]
    assert main([*argv, "--out", str(tmp_path / "p.csv"), "-q"]) == 0
    assert (tmp_path / "p.csv").read_text().count("\n") == 2

    truth = write_drive(tmp_path / "drive.mp4", seconds=2, fps=2)
    assert [t["category"] for t in truth] == ["left_curve", "right_curve"]
    out = tmp_path / "audit"
    argv = ["audit", str(tmp_path / "drive.mp4"), "--out", str(out), "--weights", str(detector)]
    argv += ["--context-weights", str(context), "--alert-threshold", "0.01", "-q"]
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["frames"] == 4 and len(report["files"][0]["frames"]) == 4
    assert "frames/s" in capsys.readouterr().out
    for name in ("alerts.csv", "alerts.png", "report.html"):
        assert (out / name).is_file()
    assert network_attempts == []


def test_bad_input_is_one_line(tmp_path, capsys):
    assert main(["val", str(tmp_path / "nothing.yaml"), "--out", str(tmp_path)]) == 2
    assert main(["detect", str(tmp_path / "missing.png"), "--out", str(tmp_path / "o")]) == 2
    assert (
        main(["audit", str(tmp_path), "--out", str(tmp_path / "o"), "--weights", str(tmp_path)])
        == 2
    )
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 3
