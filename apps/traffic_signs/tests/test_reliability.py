"""Bad inputs and hostile files, run as a user would (a fresh process, an empty $HOME): one-line
errors, inputs untouched, no code run from weights, nothing written outside the output."""

import pytest

from app_toolkit.testing import (
    UNREADABLE,
    assert_home_clean,
    assert_one_line_error,
    fingerprint,
    run_cli,
    write_bad_files,
    write_image_file,
    write_payload_pt,
)

CPU = ["--device", "cpu", "-q"]


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    write_image_file(folder / "street.png", (96, 128))
    return folder


def tsigns(tmp_path, *argv):
    return run_cli("traffic_signs", [*argv, *CPU], tmp_path / "home")


@pytest.mark.parametrize(
    "argv",
    [
        ["detect", "{photos}", "--out", "{out}", "--weights", "{pt}"],
        ["audit", "{photos}", "--out", "{out}", "--weights", "{pt}"],
        ["missing", "predict", "{photos}", "--weights", "{pt}"],
    ],
    ids=["detect", "audit", "missing-predict"],
)
def test_a_weights_file_never_runs_code(photos, tmp_path, argv):
    marker = tmp_path / "pwned"
    pt = write_payload_pt(tmp_path / "evil.pt", marker)
    args = [a.format(photos=photos, out=tmp_path / "out", pt=pt) for a in argv]
    done = tsigns(tmp_path, *args)
    assert not marker.exists(), "unpickling the weights file ran code"
    assert_one_line_error(done.returncode, done.stderr, 2, "not loadable YOLO weights")


@pytest.mark.parametrize("command", ["detect", "audit"])
def test_output_inside_the_input_is_refused(photos, tmp_path, command):
    before = fingerprint(photos)
    done = tsigns(tmp_path, command, photos, "--out", photos / "out")
    assert_one_line_error(done.returncode, done.stderr, 2, "lies inside the input folder")
    assert fingerprint(photos) == before


def test_bad_files_are_listed_the_rest_processed_nothing_written_outside(photos, tmp_path):
    write_bad_files(photos)
    before = fingerprint(photos)
    out = tmp_path / "out"
    done = tsigns(tmp_path, "detect", photos, "--out", out)
    assert done.returncode == 0 and "files skipped" in done.stdout, done.stderr[-600:]
    assert (out / "street.png").is_file() and fingerprint(photos) == before
    assert_home_clean(tmp_path / "home")


def test_only_unreadable_files_is_one_line(tmp_path):
    folder = tmp_path / "bad"
    write_bad_files(folder, UNREADABLE)
    done = tsigns(tmp_path, "detect", folder, "--out", tmp_path / "out")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "could be read" in lines[-1] and all(line.startswith("skipped") for line in lines[:-1])


@pytest.mark.parametrize(
    "option, value", [("--conf", "nan"), ("--stride", "0"), ("--imgsz", "100000")]
)
def test_bad_option_values_fail_at_parse_time(photos, tmp_path, option, value):
    done = tsigns(tmp_path, "detect", photos, "--out", tmp_path / "out", f"{option}={value}")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("broken", ["truncated", "empty", "missing_key", "not_json"])
def test_a_broken_model_folder_is_one_line(photos, tmp_path, broken):
    import json
    import shutil

    from traffic_signs.yolo import shipped_model

    model = shutil.copytree(shipped_model("detector"), tmp_path / broken)
    weights, config = model / "model.safetensors", model / "config.json"
    if broken == "truncated":
        weights.write_bytes(weights.read_bytes()[:100])
    elif broken == "empty":
        weights.write_bytes(b"")
    elif broken == "missing_key":
        data = json.loads(config.read_text())
        del data["names"]
        config.write_text(json.dumps(data))
    else:
        config.write_text("{ not json")
    done = tsigns(tmp_path, "detect", photos, "--out", tmp_path / "out", "--weights", model)
    assert_one_line_error(done.returncode, done.stderr, 2, str(model))
    assert not (tmp_path / "out").exists()
