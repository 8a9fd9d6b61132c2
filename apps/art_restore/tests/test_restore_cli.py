import json

import numpy as np
import pytest
import torch

from affine_sr.autoencoder import CouplingAutoencoder
from affine_sr.model import AffineSR
from app_toolkit.media import read_image, write_image
from art_restore.cli import main
from art_restore.evaluate import COLUMNS, METHODS, evaluate, summarise
from art_restore.restorer import damaged_crops, finetune, load_restorer, restore_image


def test_restore_runs_on_a_small_image_on_cpu(tiny_restorer_dir, artwork):
    model = load_restorer(tiny_restorer_dir)
    image = artwork[:50, :70]
    out = restore_image(model, image)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert np.array_equal(out, restore_image(model, image))


def test_evaluation_columns_and_summary_are_complete(tiny_restorer_dir, artwork):
    model = load_restorer(tiny_restorer_dir)
    rows, examples = evaluate(model, {"a": artwork}, ("blur", "cracks"), progress=False)
    assert len(rows) == 2 * len(METHODS) and all(list(r) == COLUMNS for r in rows)
    summary = summarise(rows)
    assert set(summary["per_degradation"]) == {"blur", "cracks"}
    assert all(set(v) == set(METHODS) for v in summary["per_degradation"].values())
    assert set(summary["overall"]) == set(METHODS)
    assert len(examples["blur"]) == 1 + len(METHODS)


def test_finetuning_makes_a_super_resolution_model_full_code(tmp_path, artwork):
    torch.manual_seed(0)
    ae = CouplingAutoencoder(levels=3, steps=1, hidden=8, latent_channels=8)
    model = AffineSR.build(ae, widths=(8, 16), layers=1)  # a ×4 model's shape
    data = damaged_crops([artwork], crop=32, length=4)
    hr, lr = data[0]
    assert hr.shape == lr.shape  # scale 1: same size
    finetune(model, data, tmp_path / "run", ae_steps=2, prior_steps=2, batch_size=2, progress=False)
    again = load_restorer(tmp_path / "run" / "model")
    assert again.residual and again.full_code
    assert (tmp_path / "run" / "autoencoder" / "config.json").is_file()


def test_the_command_line(tmp_path, tiny_restorer_dir, artwork, capsys):
    write_image(tmp_path / "clean" / "a.png", artwork[:64, :64])
    assert main(["degrade", str(tmp_path / "clean"), "--out", str(tmp_path / "pairs"),
                 "--kinds", "blur,rain", "-q"]) == 0  # fmt: skip
    manifest = (tmp_path / "pairs" / "manifest.csv").read_text().splitlines()
    assert manifest[0] == "damaged,clean,damage" and len(manifest) == 3
    assert main(["degrade", str(tmp_path / "clean"), "--out", str(tmp_path / "mixed"),
                 "--mix", "2", "-q"]) == 0  # fmt: skip
    assert len(list((tmp_path / "mixed" / "mixed").glob("*.png"))) == 2

    model = ["--model", str(tiny_restorer_dir), "-q"]
    assert main(["restore", str(tmp_path / "pairs" / "rain"), "--out", str(tmp_path / "r"),
                 *model]) == 0  # fmt: skip
    assert read_image(tmp_path / "r" / "a.png")[0].shape == (64, 64, 3)

    assert main(["evaluate", str(tmp_path / "clean"), "--out", str(tmp_path / "ev"),
                 "--kinds", "noise,cracks", *model]) == 0  # fmt: skip
    summary = json.loads((tmp_path / "ev" / "summary.json").read_text())
    assert set(summary["per_degradation"]) == {"noise", "cracks"}
    assert (tmp_path / "ev" / "examples.png").is_file()
    assert "| **mean** |" in (tmp_path / "ev" / "table.md").read_text()
    capsys.readouterr()

    assert main(["degrade", "--out", str(tmp_path / "x"), "--kinds", "smudge"]) == 2
    assert main(["evaluate", "--out", str(tmp_path / "e"), *model]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_help_lists_the_subcommands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(name in out for name in ("restore", "degrade", "train", "evaluate", "env"))
