"""anonymize as a user (or a hostile file) finds it: no code run from weights files, outputs never
inside the inputs, bad option values refused before work, nothing written to $HOME."""

import pytest

from anonymizer.cli import main
from app_toolkit.testing import (
    assert_home_clean,
    assert_one_line_error,
    assert_refused_at_parse,
    fingerprint,
    run_cli,
    write_bad_files,
    write_image_file,
    write_payload_pt,
)


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    write_image_file(folder / "street.png", (64, 96))
    return folder


@pytest.mark.parametrize("option", ["--face-weights", "--plate-weights"])
def test_a_weights_file_never_runs_code(photos, tmp_path, option):
    marker = tmp_path / "pwned"
    pt = write_payload_pt(tmp_path / "evil.pt", marker)
    argv = ["run", photos, "--out", tmp_path / "out", option, pt, "--device", "cpu", "-q"]
    done = run_cli("anonymizer", argv, tmp_path / "home")
    assert not marker.exists(), "unpickling the weights file ran code"
    assert_one_line_error(done.returncode, done.stderr, 2, "not loadable YOLO weights")


def test_bad_files_are_listed_inputs_and_home_untouched(photos, tmp_path):
    write_bad_files(photos)
    before = fingerprint(photos)
    home = tmp_path / "home"
    done = run_cli("anonymizer", ["run", photos, "--out", photos / "anon", "-q"], home)
    assert_one_line_error(done.returncode, done.stderr, 2, "lies inside the input folder")
    done = run_cli("anonymizer", ["run", photos, "--out", tmp_path / "out", "-q"], home)
    assert done.returncode == 0, done.stderr[-600:]
    assert (tmp_path / "out" / "street.png").is_file() and fingerprint(photos) == before
    assert_home_clean(home)


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "in", "--out", "o", "--face-threshold=nan"],
        ["run", "in", "--out", "o", "--face-grow=inf"],
        ["run", "in", "--out", "o", "--steps=0"],
        ["run", "in", "--out", "o", "--workers=0"],
        ["synth", "d", "--count=0"],
    ],
)
def test_bad_option_values_fail_at_parse_time(argv, tmp_path):
    assert_refused_at_parse(main, argv, tmp_path)


def test_a_rerun_with_other_options_is_refused_not_reported_done(photos, tmp_path):
    from anonymizer.pipeline import AnonymizerConfig, anonymize_files

    out = tmp_path / "out"
    anonymize_files([str(photos)], out, AnonymizerConfig(method="blur"), progress=False)
    again = anonymize_files([str(photos)], out, AnonymizerConfig(method="blur"), progress=False)
    assert again["status"]["exists"] == 1
    with pytest.raises(ValueError, match=r"other settings \(method\).*--overwrite"):
        anonymize_files([str(photos)], out, AnonymizerConfig(method="pixelate"), progress=False)
    redo = anonymize_files(
        [str(photos)], out, AnonymizerConfig(method="pixelate"), overwrite=True, progress=False
    )
    assert redo["status"]["done"] == 1
