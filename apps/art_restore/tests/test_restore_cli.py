import json

import numpy as np
import pytest
import torch

from affine_sr.metrics import psnr
from app_toolkit.media import read_image, write_image
from art_restore.cli import main
from art_restore.degrade import FAMILIES
from art_restore.evaluate import CLEAN, COLUMNS, METHODS, evaluate, summarise
from art_restore.residual import N_STATS, ResidualRestorer, restore_residual
from art_restore.restorer import load_restorer, restore_image
from art_restore.training import DamagedPatches


def test_restore_runs_on_a_small_image_on_cpu(tiny_restorer_dir, artwork):
    model = load_restorer(tiny_restorer_dir)
    image = artwork[:50, :70]
    out = restore_image(model, image)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert np.array_equal(out, restore_image(model, image))


def test_an_untrained_restorer_returns_its_input_bit_exact(artwork):
    torch.manual_seed(1)
    model = ResidualRestorer().eval()
    for image in (artwork, artwork[:37, :53]):  # any size, padded inside
        out, damage = restore_residual(model, image, with_map=True)
        assert np.array_equal(out, image)
        assert damage.shape == (len(FAMILIES), *image.shape[:2])
    assert np.array_equal(restore_residual(model, artwork, tile=48, overlap=16), artwork)


def test_tiles_agree_with_the_whole_image(tiny_restorer_dir, artwork):
    model = load_restorer(tiny_restorer_dir)
    whole, damage = restore_residual(model, artwork, with_map=True)
    tiled, tiled_damage = restore_residual(model, artwork, True, tile=64, overlap=24)
    assert psnr(whole, artwork, False) < 35  # the tiny model does change the image...
    assert psnr(tiled, whole, False) > 40  # ...and its tiles blend into the same result
    assert np.abs(tiled_damage - damage).mean() < 0.02


def test_evaluation_columns_and_summary_are_complete(tiny_restorer_dir, artwork):
    model = load_restorer(tiny_restorer_dir)
    rows, examples = evaluate(model, {"a": artwork}, ("blur", "cracks"), progress=False)
    assert len(rows) == 3 * len(METHODS) and all(list(r) == COLUMNS for r in rows)
    summary = summarise(rows)
    assert set(summary["per_degradation"]) == {"blur", "cracks", CLEAN}
    assert set(summary["gain_db"]) == {"blur", "cracks"}
    assert all(set(v) == set(METHODS) for v in summary["per_degradation"].values())
    assert set(summary["overall"]) == set(METHODS)
    # the damaged "method" of the clean row is the clean image itself: the 100 dB cap
    assert summary["per_degradation"][CLEAN]["damaged"]["psnr"] == 100.0
    assert 0 < summary["clean_psnr"] < 100  # the tiny model's correction is not zero
    assert len(examples["blur"]) == 1 + len(METHODS) and CLEAN not in examples


def test_training_patches_carry_the_damage_masks(artwork):
    data = DamagedPatches([artwork], crop=32, source=64, clean=0.0, seed=0)
    damaged, clean, masks, stats = next(iter(data))
    assert damaged.shape == clean.shape == (3, 32, 32) and masks.shape == (len(FAMILIES), 32, 32)
    assert stats.shape == (N_STATS,) and torch.isfinite(stats).all()
    assert 0 <= damaged.min() and damaged.max() <= 1 and masks.max() == 1
    with pytest.raises(ValueError, match="smaller than"):
        DamagedPatches([artwork[:20, :20]], crop=32)


def test_training_runs_resumes_and_writes_a_loadable_model(tmp_path, artwork):
    write_image(tmp_path / "clean" / "a.png", artwork)
    run = ["train", str(tmp_path / "clean"), "--out", str(tmp_path / "run"), "--crop", "32",
           "--batch-size", "2", "--save-every", "2", "-q"]  # fmt: skip
    assert main([*run, "--steps", "2"]) == 0
    assert main([*run, "--steps", "3"]) == 2  # a finished run is not overwritten
    assert main([*run, "--steps", "4", "--resume"]) == 0
    log = (tmp_path / "run" / "log.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in log] == ["step", "1", "2", "3", "4"]
    model = load_restorer(tmp_path / "run" / "model")
    assert isinstance(model, ResidualRestorer)
    assert restore_image(model, artwork).shape == artwork.shape


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
    assert set(summary["gain_db"]) == {"noise", "cracks"}
    assert set(summary["per_degradation"]) == {"noise", "cracks", CLEAN}
    assert (tmp_path / "ev" / "examples.png").is_file()
    assert (tmp_path / "ev" / "damage_maps.png").is_file()
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


def test_restore_with_and_without_the_detector(tmp_path, capsys):
    from affine_sr.data import sample_images
    from art_restore.artworks import stylise

    clean = stylise(sample_images()["coffee"][100:196, 200:296], np.random.default_rng(0))
    write_image(tmp_path / "in" / "clean.png", clean)
    assert main(["restore", str(tmp_path / "in"), "--out", str(tmp_path / "a"), "-q"]) == 0
    assert np.array_equal(read_image(tmp_path / "a" / "clean.png")[0], clean)
    out = tmp_path / "b"
    assert main(["restore", str(tmp_path / "in"), "--out", str(out), "--no-detector", "-q"]) == 0
    assert not np.array_equal(read_image(out / "clean.png")[0], clean)  # the network acted
    # the same folder with the detector on is another run's output: refused
    assert main(["restore", str(tmp_path / "in"), "--out", str(out), "-q"]) == 2
    capsys.readouterr()


def test_a_rerun_with_another_detector_is_another_run(tmp_path, capsys):
    import json
    import shutil

    from art_restore.restorer import shipped_restorer

    write_image(tmp_path / "in" / "a.png", np.full((32, 32, 3), 128, np.uint8))
    other = tmp_path / "other_model"
    shutil.copytree(shipped_restorer(), other)
    detector = json.loads((other / "detector.json").read_text())
    detector["thresholds"] = [min(1.0, t + 0.01) for t in detector["thresholds"]]
    (other / "detector.json").write_text(json.dumps(detector))
    argv = ["restore", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "-q"]
    assert main(argv) == 0
    assert main([*argv, "--model", str(other)]) == 2  # same network, other routing: refused
    assert "other settings" in capsys.readouterr().err


def test_a_rerun_under_other_expert_rules_is_another_run(tmp_path, capsys, monkeypatch):
    from art_restore import experts

    write_image(tmp_path / "in" / "a.png", np.full((32, 32, 3), 128, np.uint8))
    argv = ["restore", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "-q"]
    assert main(argv) == 0
    monkeypatch.setattr(experts, "DULL_MIN", experts.DULL_MIN + 0.05)
    assert main(argv) == 2  # same network and detector, other thresholds: refused
    assert "other settings (rules)" in capsys.readouterr().err


def test_restore_explains_what_it_found_and_did(tmp_path, capsys):
    from affine_sr.data import sample_images
    from art_restore.artworks import stylise
    from art_restore.degrade import apply

    clean = stylise(sample_images()["coffee"][100:196, 200:296], np.random.default_rng(0))
    write_image(tmp_path / "in" / "clean.png", clean)
    write_image(tmp_path / "in" / "blocks.png", apply(clean, "pixelate", 0.5, seed=1))
    out = tmp_path / "out"
    assert main(["restore", str(tmp_path / "in"), "--out", str(out), "--explain", "-q"]) == 0
    blocks = json.loads((out / "blocks.json").read_text())
    assert "pixelate" in blocks["detected"] and blocks["experts"][0]["expert"] == "depixelate"
    assert json.loads((out / "clean.json").read_text())["experts"] == []
    assert np.array_equal(read_image(out / "clean.png")[0], clean)
    argv = ["restore", str(tmp_path / "in"), "--out", str(tmp_path / "x"), "--explain"]
    assert main([*argv, "--no-detector", "-q"]) == 2
    assert "--explain needs a restorer with a damage detector" in capsys.readouterr().err
