import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from anonymizer import AnonymizerConfig, DetectorConfig, anonymize_image
from anonymizer.cli import main
from anonymizer_test_utils import ASTRONAUT_FACE, overlap, tree_digest
from app_toolkit.media import VideoInfo, read_image, video_info, write_video

CPU = ["--device", "cpu"]
# The drawn scenes' flat GOST plates are not photographic: the default plate network (trained on
# photographs) misses them, while OpenCV's cascade was trained on this very layout. Tests of the
# pipeline on drawn scenes therefore find plates with the cascade; real photos: test_onnx_detectors.
DRAWN = ["--plate-detector", "cascade"]


def test_anonymize_image_api(astronaut):
    out, found = anonymize_image(astronaut, AnonymizerConfig(DetectorConfig(device="cpu")))
    faces = [d for d in found if d.label == "face"]
    assert len(faces) == 1 and overlap(faces[0].box, ASTRONAUT_FACE) == 1.0
    assert faces[0].method == "cv-inpaint"
    assert not np.array_equal(out, astronaut)


def test_run_replaces_faces_keeps_inputs_and_reports_bad_files(dataset, tmp_path, capsys):
    before = tree_digest(dataset)
    out = tmp_path / "out"
    assert main(["run", str(dataset), "--out", str(out), "--preview", "-q", *DRAWN, *CPU]) == 0
    assert tree_digest(dataset) == before, "inputs changed"
    assert (out / "astronaut.png").is_file() and (out / "cam1" / "scene.jpg").is_file()
    assert not (out / "cam1" / "corrupt.jpg").exists() and not (out / "notes.txt").exists()
    assert (out / "_anonymize" / "previews" / "astronaut.png.jpg").is_file()
    report = json.loads((out / "_anonymize" / "report.json").read_text())
    assert report["status"] == {"done": 2, "failed": 2, "skipped": 1}
    problems = {os.path.basename(p["input"]): p["reason"] for p in report["problems"]}
    assert set(problems) == {"corrupt.jpg", "truncated.jpg", "notes.txt"}
    assert "not a readable image" in problems["truncated.jpg"]
    assert report["detections"]["face"] >= 3  # the astronaut and the scene's pedestrians
    assert report["detections"]["plate"] >= 2
    review = json.loads((out / "_anonymize" / "reviews" / "astronaut.png.json").read_text())
    assert review["size"] == [512, 512] and review["detections"][0]["label"] == "face"
    assert not [p for p in out.rglob(".*")], "temporary files left behind"

    # verify: the faces and plates replaced are no longer found
    capsys.readouterr()
    assert main(["verify", str(out), "-q", "--fail-on-residual", *DRAWN, *CPU]) == 0
    result = json.loads((out / "_anonymize" / "verify.json").read_text())
    assert result["files"] == 2 and result["residual"] == {"face": 0, "plate": 0}
    assert result["residual_rate"]["face"] == 0.0
    assert "residual rate 0.0%" in capsys.readouterr().out


def test_rerun_skips_finished_outputs_and_overwrite_redoes_them(dataset, tmp_path):
    out = tmp_path / "out"
    args = ["run", str(dataset / "astronaut.png"), "--out", str(out), "-q", *CPU]
    assert main(args) == 0
    stamp = (out / "astronaut.png").stat().st_mtime_ns
    assert main(args) == 0
    report = json.loads((out / "_anonymize" / "report.json").read_text())
    assert report["status"] == {"exists": 1}
    assert (out / "astronaut.png").stat().st_mtime_ns == stamp
    assert main([*args, "--overwrite", "--method", "solid"]) == 0
    assert (out / "astronaut.png").stat().st_mtime_ns != stamp


def test_apply_review_renders_exactly_the_edited_boxes(dataset, tmp_path, astronaut):
    out = tmp_path / "out"
    assert main(["run", str(dataset / "astronaut.png"), "--out", str(out), "-q", *CPU]) == 0
    review_path = out / "_anonymize" / "reviews" / "astronaut.png.json"
    review = json.loads(review_path.read_text())
    # a reviewer removes the face box (a "false" detection) and adds a missed region
    review["detections"] = [{"box": [0, 400, 100, 500], "label": "plate", "method": "solid"}]
    review_path.write_text(json.dumps(review))
    assert main(["apply-review", str(review_path), "--preview", "-q", *CPU]) == 0
    rendered = read_image(out / "astronaut.png")[0]
    fx0, fy0, fx1, fy1 = ASTRONAUT_FACE
    assert np.array_equal(rendered[fy0:fy1, fx0:fx1], astronaut[fy0:fy1, fx0:fx1])
    assert rendered[420:480, 20:80].max() == 0  # the added box, filled solid
    assert (out / "_anonymize" / "previews" / "astronaut.png.jpg").is_file()
    assert main(["verify", str(out), "-q", "--fail-on-residual", *CPU]) == 1
    result = json.loads((out / "_anonymize" / "verify.json").read_text())
    assert result["residual"]["face"] == 1 and result["residual_inside_replaced"]["face"] == 0


def test_verify_tells_faces_left_inside_replaced_regions(dataset, tmp_path):
    out = tmp_path / "out"
    args = ["--classes", "face", "-q", *CPU]
    assert main(["run", str(dataset / "astronaut.png"), "--out", str(out), *args]) == 0
    # a review that claims the face region was replaced although the output still shows it
    (out / "astronaut.png").write_bytes((dataset / "astronaut.png").read_bytes())
    assert main(["verify", str(out), *args]) == 0
    result = json.loads((out / "_anonymize" / "verify.json").read_text())
    assert result["residual"] == {"face": 1} and result["residual_inside_replaced"] == {"face": 1}
    assert result["residual_rate"] == {"face": 1.0}


def test_video_round_trips_with_the_same_frames(tmp_path, astronaut):
    frames = []
    for t in range(6):  # the face drifts to the right
        frame = np.full((300, 400, 3), 90, np.uint8)
        frame[20:276, 10 + 8 * t : 266 + 8 * t] = np.asarray(
            Image.fromarray(astronaut).resize((256, 256))
        )
        frames.append(frame)
    source = tmp_path / "in" / "clip.mp4"
    write_video(source, iter(frames), VideoInfo(8.0, 400, 300, 6))
    before = tree_digest(tmp_path / "in")
    out = tmp_path / "out"
    assert main(["run", str(source), "--out", str(out), "-q", "--classes", "face", *CPU]) == 0
    assert tree_digest(tmp_path / "in") == before
    info = video_info(out / "clip.mp4")
    assert (info.width, info.height, info.fps, info.frames) == (400, 300, 8.0, 6)
    review = json.loads((out / "_anonymize" / "reviews" / "clip.mp4.json").read_text())
    assert len(review["frames"]) == 6 and all(review["frames"])
    assert main(["verify", str(out), "-q", "--classes", "face", "--fail-on-residual", *CPU]) == 0
    assert main(["apply-review", str(out / "_anonymize" / "reviews"), "-q", *CPU]) == 0
    assert video_info(out / "clip.mp4").frames == 6


def test_sd_inpaint_through_the_command_line(dataset, tmp_path, tiny_sd):
    out = tmp_path / "out"
    args = ["run", str(dataset / "astronaut.png"), "--out", str(out), "-q", *CPU]
    sd = ["--method", "sd-inpaint", "--sd-model", str(tiny_sd), "--steps", "2", "--sd-size", "64"]
    assert main([*args, *sd]) == 0
    review = json.loads((out / "_anonymize" / "reviews" / "astronaut.png.json").read_text())
    assert review["method"] == "sd-inpaint"
    assert main(["verify", str(out), "-q", "--classes", "face", "--fail-on-residual", *CPU]) == 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "missing-folder", "--out", "o"], "no such file or folder"),
        (["run", "{data}", "--out", "o", "--method", "sd-inpaint"], "needs --sd-model"),
        (["run", "{data}", "--out", "o", "--classes", "cars"], "--classes"),
        (["run", "{data}", "--out", "o", "--face-weights", "nope.pt"], "no such file"),
        (["run", "{data}", "--out", "{data}"], "is the input folder"),
        (["verify", "missing-folder"], "no such folder"),
        (["apply-review", "missing.json"], "no such file"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(dataset, argv, message, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    argv = [a.replace("{data}", str(dataset / "cam1")) for a in argv]
    assert main([*argv, *CPU]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_verify_against_known_boxes(tmp_path, capsys):
    data, out = tmp_path / "data", tmp_path / "out"
    assert main(["synth", str(data), "--count", "1", "-q"]) == 0
    assert main(["run", str(data), "--out", str(out), "-q", *DRAWN, *CPU]) == 0
    truth = str(data / "truth.json")
    assert main(["verify", str(out), "--truth", truth, "-q", *CPU]) == 0
    result = json.loads((out / "_anonymize" / "verify.json").read_text())["truth"]
    assert result["face"]["true"] == 2 and result["plate"]["true"] == 3
    assert result["face"]["recall"] == 1.0 and result["plate"]["recall"] == 1.0
    assert result["plate"]["false"] == 0
    assert "truth: 2 of 2 faces replaced (100.0%)" in capsys.readouterr().out
    (tmp_path / "bad.json").write_text("[1, 2]")
    assert main(["verify", str(out), "--truth", str(tmp_path / "bad.json"), "-q", *CPU]) == 2


def test_bench_and_synth(tmp_path, capsys):
    assert main(["synth", str(tmp_path / "s"), "--count", "1", "--size", "640x360", "-q"]) == 0
    truth = json.loads((tmp_path / "s" / "truth.json").read_text())
    assert list(truth) == ["scene_000.jpg"] and len(truth["scene_000.jpg"]) == 5
    result_path = tmp_path / "bench.json"
    argv = ["bench", "--frames", "1", "--warmup", "0", "--size", "640x360", "-q", *CPU]
    assert main([*argv, "--json", str(result_path)]) == 0
    result = json.loads(result_path.read_text())
    assert result["images_per_second"] > 0
    assert {"decode", "encode", "replace (cv-inpaint)"} <= set(result["stages_ms"])
    assert "images per second" in capsys.readouterr().out


def test_console_script_and_module_entry_point():
    out = subprocess.run(
        [sys.executable, "-m", "anonymizer", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip().startswith("anonymize ")


def _images(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_workers_give_the_same_outputs_as_one_process(dataset, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    assert main(["run", str(dataset), "--out", str(one), "-q", *CPU]) == 0
    assert main(["run", str(dataset), "--out", str(two), "-q", "--workers", "2", *CPU]) == 0
    files = [f for f in _images(one) if not f.startswith("_anonymize/report")]
    assert files == [f for f in _images(two) if not f.startswith("_anonymize/report")]
    for name in ("astronaut.png", "cam1/scene.jpg"):
        assert np.array_equal(read_image(one / name)[0], read_image(two / name)[0])


def test_distributed_launch_splits_files_without_duplicates(dataset, tmp_path):
    """Two processes as `accelerate launch` / torchrun start them (gloo on CPU, loopback only)."""
    out = tmp_path / "out"
    with socket.socket() as s:  # a free loopback port for the rendezvous
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_addr",
        "127.0.0.1",
        "--master_port",
        str(port),
        "-m",
        "anonymizer",
        "run",
        str(dataset),
        "--out",
        str(out),
        "-q",
        *CPU,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((out / "_anonymize" / "report.json").read_text())
    assert report["processes"] == 2
    inputs = [e["input"] for e in report["entries"]]
    assert len(inputs) == len(set(inputs)) == 5
    assert (out / "astronaut.png").is_file() and (out / "cam1" / "scene.jpg").is_file()


def test_odd_files_fail_alone_and_the_run_goes_on(dataset, tmp_path):
    Image.new("RGB", (8, 6), "white").save(dataset / "tiny.png")
    (dataset / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not a video")
    out = tmp_path / "out"
    assert main(["run", str(dataset), "--out", str(out), "-q", *CPU]) == 0
    report = json.loads((out / "_anonymize" / "report.json").read_text())
    status = {os.path.basename(e["input"]): e["status"] for e in report["entries"]}
    assert status["tiny.png"] == "done" and status["broken.mp4"] == "failed"
    (out / "broken.mp4").write_bytes(b"garbage")  # an unreadable output is not a clean one
    assert main(["verify", str(out), "-q", *CPU]) == 0
    result = json.loads((out / "_anonymize" / "verify.json").read_text())
    assert [os.path.basename(p["file"]) for p in result["problems"]] == ["broken.mp4"]


@pytest.mark.parametrize(
    "edit, message",
    [
        ({"input": None}, "'input' must be a file path"),
        ({"size": 5}, "'size' must be [width, height]"),
        ({"detections": [{"box": [1e999, 0, 5, 5], "label": "face"}]}, "'box' must be"),
        ({"detections": [{"box": [True, 0, 5, 5], "label": "face"}]}, "'box' must be"),
        ({"detections": [{"box": [900, 900, 950, 950], "label": "face"}]}, "lies outside"),
        ({"detections": [{"box": [0, 0, 5, 5], "label": "face", "method": "smudge"}]}, "method"),
    ],
)
def test_bad_review_files_are_one_line_errors(dataset, tmp_path, capsys, edit, message):
    out = tmp_path / "out"
    assert main(["run", str(dataset / "astronaut.png"), "--out", str(out), "-q", *CPU]) == 0
    path = out / "_anonymize" / "reviews" / "astronaut.png.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **edit}))
    capsys.readouterr()
    assert main(["apply-review", str(path), "-q", *CPU]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err


def test_bad_detector_options_fail_before_workers_start(dataset, tmp_path, capsys):
    argv = ["run", str(dataset), "--out", str(tmp_path / "o"), "--workers", "2"]
    with pytest.raises(SystemExit) as refused:  # out of its range: refused at parse time
        main([*argv, "--face-threshold", "2", *CPU])
    assert refused.value.code == 2
    assert "--face-threshold: must be in (0.0, 1.0)" in capsys.readouterr().err
    # values the parser cannot judge alone are checked before the workers start, too
    assert main([*argv, "--classes", "cars", *CPU]) == 2
    assert "--classes must list face and/or plate" in capsys.readouterr().err


def test_a_failed_background_write_fails_that_file_alone(dataset, tmp_path, monkeypatch):
    # Outputs are written in a background thread while the next image is detected: a write
    # that fails there is reported against its own file, and a rerun redoes only that one.
    import anonymizer.pipeline as pipeline

    write_image = pipeline.write_image

    def full_disk_for_the_scene(path, *args, **kwargs):
        if path.name == "scene.jpg":
            raise OSError(28, "No space left on device")
        return write_image(path, *args, **kwargs)

    monkeypatch.setattr(pipeline, "write_image", full_disk_for_the_scene)
    out = tmp_path / "out"
    assert main(["run", str(dataset), "--out", str(out), "-q", *DRAWN, *CPU]) == 0
    report = json.loads((out / "_anonymize" / "report.json").read_text())
    entries = {os.path.basename(e["input"]): e for e in report["entries"]}
    assert entries["scene.jpg"]["status"] == "failed"
    assert "No space left on device" in entries["scene.jpg"]["reason"]
    assert entries["astronaut.png"]["status"] == "done"
    assert not (out / "cam1" / "scene.jpg").exists() and (out / "astronaut.png").is_file()
    monkeypatch.setattr(pipeline, "write_image", write_image)
    assert main(["run", str(dataset), "--out", str(out), "-q", *DRAWN, *CPU]) == 0
    report = json.loads((out / "_anonymize" / "report.json").read_text())
    status = {os.path.basename(e["input"]): e["status"] for e in report["entries"]}
    assert status["scene.jpg"] == "done" and status["astronaut.png"] == "exists"
