import json
import subprocess
import sys

import numpy as np
import pytest

from affine_sr.cli import main
from app_toolkit.media import read_image, write_image


def test_help_lists_the_subcommands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("upscale", "train", "evaluate", "env"))


def test_no_subcommand_is_a_usage_error():
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2


def test_console_script_is_installed():
    out = subprocess.run(
        [sys.executable, "-m", "affine_sr", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "affine-sr 0.0.1"


def test_upscale_and_evaluate_from_the_command_line(tmp_path, tiny_model_dir, capsys):
    rng = np.random.default_rng(0)
    write_image(tmp_path / "in" / "a.png", rng.integers(0, 256, (12, 20, 3), dtype=np.uint8))
    args = ["--model", str(tiny_model_dir), "--steps", "1", "-q"]
    assert main(["upscale", str(tmp_path / "in"), "--out", str(tmp_path / "out"), *args]) == 0
    image, _ = read_image(tmp_path / "out" / "a.png")
    assert image.shape == (48, 80, 3)
    assert "1 written" in capsys.readouterr().out

    write_image(tmp_path / "hr" / "b.png", rng.integers(0, 256, (64, 48, 3), dtype=np.uint8))
    assert main(["evaluate", str(tmp_path / "hr"), "--out", str(tmp_path / "ev"), *args]) == 0
    summary = json.loads((tmp_path / "ev" / "summary.json").read_text())
    assert summary["images"] == 1 and "psnr_y_gain" in summary
    assert (tmp_path / "ev" / "comparison.png").is_file()
    assert "PSNR-Y gain" in capsys.readouterr().out


def test_train_all_stages_from_the_command_line(tmp_path):
    out = tmp_path / "run"
    tiny = ["--textures", "3", "--crop", "32", "--batch-size", "2", "--ae-hidden", "8"]
    tiny += ["--ae-steps-per-level", "1", "--widths", "8,16", "--latent-channels", "8"]
    assert (
        main(["train", "--out", str(out), *tiny, "--ae-steps", "2", "--prior-steps", "2",
              "--refiner-steps", "2", "--refiner-width", "8", "--refiner-blocks", "1", "-q"])
        == 0
    )  # fmt: skip
    assert (out / "autoencoder" / "config.json").is_file()
    assert (out / "model" / "refiner" / "config.json").is_file()
    assert (out / "refiner_run" / "history.json").is_file()
    assert (
        main(
            [
                "upscale",
                str(tmp_path / "none.png"),
                "--out",
                str(tmp_path / "o"),
                "--model",
                str(out),
            ]
        )
        == 2
    )  # missing input: one-line error


def test_bad_input_is_one_line_not_a_traceback(tmp_path, tiny_model_dir, capsys):
    with pytest.raises(SystemExit) as done:  # argparse's own one-line error
        main(["evaluate", "--heldout", "--out", str(tmp_path / "q"), "--jpeg-quality", "500"])
    assert done.value.code == 2 and "1..100" in capsys.readouterr().err
    with pytest.raises(SystemExit) as done:  # refused by its range, before any work
        main(["upscale", str(tmp_path), "--out", str(tmp_path / "o"), "--fidelity", "2"])
    assert done.value.code == 2 and "must be in [0.0, 1.0]" in capsys.readouterr().err
    assert main(["evaluate", "--out", str(tmp_path / "e"), "--model", str(tiny_model_dir)]) == 2
    assert (
        main(["upscale", str(tmp_path), "--out", str(tmp_path / "o"), "--model", str(tmp_path)])
        == 2
    )
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 2
    assert main(["train", "--out", str(tmp_path / "r")]) == 2
