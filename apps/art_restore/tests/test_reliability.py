"""art-restore as a user finds it: bad option values refused before work, outputs never inside
the inputs, bad files listed and the rest restored."""

import shutil
from pathlib import Path

import pytest

from app_toolkit.testing import (
    assert_home_clean,
    assert_one_line_error,
    assert_refused_at_parse,
    fingerprint,
    run_cli,
    write_bad_files,
    write_image_file,
)
from art_restore.cli import main


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "clean", "--out", "run", "--lr=nan"],
        ["train", "clean", "--out", "run", "--steps=0"],
        ["train", "clean", "--out", "run", "--save-every=0"],
        ["train", "clean", "--out", "run", "--crop=0"],
        ["train", "clean", "--out", "run", "--crop=-5"],
        ["degrade", "clean", "--out", "pairs", "--mix=100000000"],
        ["restore", "clean", "--out", "r", "--fidelity=nan"],
        ["evaluate", "--heldout", "--out", "e", "--crop=0"],
    ],
)
def test_bad_option_values_fail_at_parse_time(argv, tmp_path):
    assert_refused_at_parse(main, argv, tmp_path)


def test_restore_a_folder_with_bad_files(tmp_path):
    scans = tmp_path / "scans"
    write_image_file(scans / "a.png", (24, 32))
    write_bad_files(scans)
    before = fingerprint(scans)
    home = tmp_path / "home"
    done = run_cli("art_restore", ["restore", scans, "--out", scans, "-q"], home)
    assert_one_line_error(done.returncode, done.stderr, 2, "is the input folder")
    done = run_cli("art_restore", ["restore", scans, "--out", tmp_path / "out", "-q"], home)
    assert done.returncode == 0, done.stderr[-600:]
    assert (tmp_path / "out" / "a.png").is_file() and fingerprint(scans) == before
    assert_home_clean(home)
    shutil.rmtree(tmp_path / "out")


def test_file_names_that_are_not_utf8_reach_the_csv_reports(tmp_path):
    """A Latin-1 name on a Linux disk (bytes that are not UTF-8): degrade and evaluate keep it
    as the bytes it was rather than losing every result to an encoding error."""
    scans = tmp_path / "scans"
    latin1 = b"sc\xe9ne".decode("utf-8", "surrogateescape")
    write_image_file(scans / f"{latin1}.png", (40, 48))
    write_image_file(scans / "plain.png", (40, 48), seed=1)
    argv = ["degrade", str(scans), "--out", str(tmp_path / "pairs"), "--kinds", "noise", "-q"]
    assert main(argv) == 0
    assert b"sc\xe9ne.png" in (tmp_path / "pairs" / "manifest.csv").read_bytes()
    argv = ["evaluate", str(scans), "--out", str(tmp_path / "eval"), "--kinds", "noise"]
    assert main([*argv, "--crop", "32", "--no-detector", "-q"]) == 0
    assert b"sc\xe9ne" in (tmp_path / "eval" / "results.csv").read_bytes()


def test_a_model_with_nan_weights_is_refused_not_run(tmp_path, capsys):
    """Weights of NaN would turn every output black: the folder is refused on load."""
    from safetensors.torch import load_file, save_file

    import art_restore

    shipped = Path(art_restore.__file__).parent / "pretrained" / "default"
    broken = tmp_path / "model"
    shutil.copytree(shipped, broken)
    state = load_file(broken / "model.safetensors")
    name = next(k for k, v in state.items() if v.is_floating_point())
    state[name] = state[name] * float("nan")
    save_file(state, broken / "model.safetensors")
    write_image_file(tmp_path / "scans" / "a.png", (24, 32))
    argv = ["restore", str(tmp_path / "scans"), "--out", str(tmp_path / "out"), "-q"]
    code = main([*argv, "--model", str(broken)])
    assert_one_line_error(code, capsys.readouterr().err, 2, "NaN or infinite weights")
    assert not (tmp_path / "out" / "a.png").exists()
