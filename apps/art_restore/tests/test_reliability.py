"""art-restore as a user finds it: bad option values refused before work, outputs never inside
the inputs, bad files listed and the rest restored."""

import shutil

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
