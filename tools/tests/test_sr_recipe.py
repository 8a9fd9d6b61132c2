"""The recipe of affine-sr's shipped model runs end to end (all three stages, the held-out
evaluation and the model card) on a tiny budget, into a folder of the test's own."""

from __future__ import annotations

import subprocess
import sys

import pytest
from layout import ROOT


@pytest.mark.slow  # three trainings and an evaluation, each a process: over 30 s on two cores
def test_the_sr_recipe_runs_end_to_end_on_a_tiny_budget(tmp_path):
    tiny = ["--textures", "2", "--ae-steps", "1", "--prior-steps", "1", "--refiner-steps", "2",
            "--batch-size", "2", "--latent-channels", "8", "--widths", "8,16",
            "--refiner-width", "8", "--refiner-blocks", "1", "--refiner-crop", "32"]  # fmt: skip
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "train_default_sr_model.py"),
         "--work", str(tmp_path / "work"), "--target", str(tmp_path / "model"), *tiny],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-1500:]
    card = (tmp_path / "model" / "MODEL_CARD.md").read_text()
    assert "| refiner |" in card and "above Lanczos on" in card
    assert (tmp_path / "model" / "refiner" / "model.safetensors").is_file()
