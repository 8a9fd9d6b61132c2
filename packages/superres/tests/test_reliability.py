"""affine-sr as a user (or a hostile file) finds it: broken model folders, bad option values,
outputs of another run, inputs never written."""

import json
import shutil

import pytest

from affine_sr.checkpoint import shipped_model
from app_toolkit.testing import (
    UNREADABLE,
    assert_home_clean,
    assert_one_line_error,
    fingerprint,
    run_cli,
    write_bad_files,
    write_image_file,
)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    write_image_file(folder / "a.png", (24, 32))
    return folder


def affine_sr(tmp_path, *argv):
    return run_cli("affine_sr", [*argv, "--device", "cpu", "-q"], tmp_path / "home")


def broken_models(root):
    """Model folders as they arrive broken: a missing config key, truncated and empty weights."""
    folders = {}
    for name in ("missing_key", "truncated", "empty"):
        folders[name] = shutil.copytree(shipped_model(), root / name)
    config = json.loads((folders["missing_key"] / "config.json").read_text())
    del config["scheduler_class"]
    (folders["missing_key"] / "config.json").write_text(json.dumps(config))
    weights = folders["truncated"] / "sft.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    (folders["empty"] / "autoencoder" / "model.safetensors").write_bytes(b"")
    return folders


@pytest.mark.parametrize("broken", ["missing_key", "truncated", "empty"])
def test_a_broken_model_folder_is_one_line(photos, tmp_path, broken):
    model = broken_models(tmp_path)[broken]
    done = affine_sr(tmp_path, "upscale", photos, "--out", tmp_path / "out", "--model", model)
    assert_one_line_error(done.returncode, done.stderr, 2, str(model))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "option", ["--scale=0", "--steps=0", "--fidelity=nan", "--tile=-1", "--overlap=100000"]
)
def test_bad_option_values_fail_at_parse_time(photos, tmp_path, option):
    done = affine_sr(tmp_path, "upscale", photos, "--out", tmp_path / "out", option)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_train_refuses_non_finite_learning_rates(photos, tmp_path):
    done = affine_sr(tmp_path, "train", photos, "--out", tmp_path / "run", "--prior-lr=inf")
    assert done.returncode == 2 and "finite" in done.stderr and not (tmp_path / "run").exists()


def test_batch_with_bad_files_keeps_inputs_and_home_untouched(photos, tmp_path):
    mixed = shutil.copytree(photos, tmp_path / "mixed")
    write_bad_files(mixed)
    before = fingerprint(mixed)
    done = affine_sr(tmp_path, "upscale", mixed, "--out", tmp_path / "out", "--tile", "0")
    assert done.returncode == 0, done.stderr[-600:]
    assert (tmp_path / "out" / "a.png").is_file() and (tmp_path / "out" / "tiny.png").is_file()
    assert fingerprint(mixed) == before
    assert_home_clean(tmp_path / "home")
    # only unreadable files: exit 1
    only_bad = tmp_path / "only_bad"
    write_bad_files(only_bad, UNREADABLE)
    done = affine_sr(tmp_path, "upscale", only_bad, "--out", tmp_path / "out2")
    assert done.returncode == 1 and "could be read" in done.stderr.splitlines()[-1]


def test_output_into_the_input_is_refused_even_with_overwrite(photos, tmp_path):
    before = fingerprint(photos)
    done = affine_sr(tmp_path, "upscale", photos, "--out", photos, "--overwrite")
    assert_one_line_error(done.returncode, done.stderr, 2, "is the input folder")
    assert fingerprint(photos) == before


def test_ctrl_c_midway_then_rerun_finishes(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    photos = tmp_path / "many"
    count = 16  # a margin: the batch is still running when the signal arrives
    for i in range(count):
        write_image_file(photos / f"p{i}.png", (48, 48), seed=i)
    out = tmp_path / "out"
    env = {**os.environ, "HOME": str(tmp_path / "home")}
    argv = [sys.executable, "-m", "affine_sr", "upscale", str(photos), "--out", str(out)]
    argv += ["--device", "cpu", "-q", "--tile", "0"]
    # a shell that ran the tests in the background may have left SIGINT ignored, and Python
    # then installs no KeyboardInterrupt handler: give the child the default one
    child = subprocess.Popen(
        argv, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    manifest = out / "run-manifest.json"

    def recorded() -> dict:
        # an output counts as done once the manifest records it (one written but not yet
        # recorded when the signal lands is redone: never skipped unfinished)
        try:
            return json.loads(manifest.read_text())["outputs"]
        except (OSError, ValueError, KeyError):
            return {}

    deadline = time.monotonic() + 300
    while not recorded() and time.monotonic() < deadline:
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    stderr = child.communicate(timeout=120)[1]
    assert child.returncode == 130 and "Traceback" not in stderr
    assert "interrupted" in stderr.strip().splitlines()[-1]
    done_before = recorded()
    assert 1 <= len(done_before) < count
    assert set(done_before) <= {p.name for p in out.glob("*.png")}
    assert not [p for p in out.iterdir() if p.name.startswith(".") and p.suffix != ".json"]
    rerun = affine_sr(tmp_path, "upscale", photos, "--out", out, "--tile", "0")
    assert rerun.returncode == 0 and f"{len(done_before)} already done" in rerun.stdout
    assert len(list(out.glob("*.png"))) == count
