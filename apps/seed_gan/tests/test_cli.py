import csv
import json

import pytest

from seed_gan.cli import main
from seed_gan.synth import write_dataset


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    root = tmp_path_factory.mktemp("seeds")
    write_dataset(root, total=80, seed=0, size=32)
    return root


def test_help_lists_the_subcommands(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for name in ("grade", "classify", "gan", "select", "synth", "env"):
        assert name in out


def test_synth_writes_the_published_class_mix(tmp_path):
    assert main(["synth", str(tmp_path), "--total", "40", "--size", "32", "-q"]) == 0
    counts = {d.name: len(list(d.glob("*.png"))) for d in tmp_path.iterdir()}
    assert counts == {"pure": 16, "broken": 13, "discolored": 7, "silkcut": 4}


@pytest.fixture(scope="module")
def gan_dir(seeds, tmp_path_factory):
    out = tmp_path_factory.mktemp("gan")
    argv = ["gan", "train", str(seeds), "--out", str(out), "--size", "16", "--width", "4"]
    argv += ["--steps", "3", "--batch-size", "8", "--checkpoint-every", "2", "-q"]
    assert main(argv) == 0
    return out


def test_gan_train_resume_and_sample(seeds, gan_dir, tmp_path, capsys):
    for name in ("generator/config.json", "samples.png", "losses.png", "history.json"):
        assert (gan_dir / name).is_file()
    argv = ["gan", "train", str(seeds), "--out", str(gan_dir), "--size", "16", "--width", "4"]
    argv += ["--batch-size", "8", "-q"]
    assert main([*argv, "--steps", "3"]) == 2  # an existing run is not overwritten by accident
    assert "--resume" in capsys.readouterr().err
    assert main([*argv, "--steps", "5", "--resume"]) == 0
    assert json.loads((gan_dir / "history.json").read_text())[-1]["step"] == 5

    out = tmp_path / "generated"
    argv = ["sample", str(gan_dir), "--out", str(out), "--per-class", "3", "--classes"]
    assert main(["gan", *argv, "silkcut,broken", "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["broken", "grid.png", "silkcut"]
    assert len(list((out / "silkcut").glob("*.png"))) == 3
    assert main(["gan", *argv, "wheat", "-q"]) == 2


def test_classify_train_with_gan_augmentation_evaluate_select_and_grade(
    seeds, gan_dir, tmp_path, capsys
):
    clf = tmp_path / "clf"
    argv = ["classify", "train", str(seeds), "--out", str(clf), "--size", "32"]
    argv += ["--arch", "shufflenet_v2_x0_5", "--steps", "4", "--batch-size", "16"]
    assert main([*argv, "--gan", str(gan_dir), "--augment-with-gan", "20", "-q"]) == 0
    metrics = json.loads((clf / "metrics.json").read_text())
    assert sum(metrics["generated"].values()) == 20 and metrics["generated"]["pure"] == 0
    assert (clf / "confusion.png").is_file() and (clf / "model" / "config.json").is_file()
    assert "macro-F1" in capsys.readouterr().out
    assert main([*argv, "--augment-with-gan", "5", "-q"]) == 2  # needs --gan

    assert main(["classify", "evaluate", str(clf), str(seeds), "--split", "all", "-q"]) == 0
    assert "all split, 80 images" in capsys.readouterr().out

    picks = tmp_path / "to_label.csv"
    argv = ["select", "--model", str(clf), "--unlabeled", str(seeds), "--budget", "6"]
    assert main([*argv, "--out", str(picks), "-q"]) == 0
    rows = list(csv.DictReader(picks.open()))
    assert len(rows) == 6 and len({r["file"] for r in rows}) == 6

    lot = tmp_path / "lot"
    lot.mkdir()
    for i, path in enumerate(sorted(seeds.glob("*/*.png"))[:10]):
        (lot / f"k{i:02d}.png").write_bytes(path.read_bytes())
    (lot / "k99.png").write_bytes(b"truncated")
    report = tmp_path / "report"
    assert main(["grade", str(lot), "--out", str(report), "--model", str(clf), "-q"]) == 0
    summary = json.loads((report / "summary.json").read_text())
    assert summary["kernels"] == 10 and len(summary["skipped"]) == 1
    assert "k99.png" in summary["skipped"][0] and "unreadable" in capsys.readouterr().out
    low, high = summary["purity_interval"]
    assert low <= summary["purity"] <= high
    for name in ("seeds.csv", "summary.png", "report.html"):
        assert (report / name).is_file()


def test_bad_input_is_one_line_not_a_traceback(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]) == 2
    assert main(["classify", "evaluate", str(tmp_path), str(tmp_path), "-q"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 2


def test_bench_compares_the_recipes(seeds, gan_dir, tmp_path, capsys):
    out = tmp_path / "bench.json"
    argv = ["bench", str(seeds), "--gan", str(gan_dir), "--steps", "2", "--seeds", "1"]
    assert main([*argv, "--json", str(out), "-q"]) == 0
    table = capsys.readouterr().out
    assert "augmented" in table and "gan-only" in table and "recall silkcut" in table
    assert "classic" in table and "filter acceptance" in table
    result = json.loads(out.read_text())
    rows = {r["recipe"]: r for r in result["rows"]}
    assert set(rows) == {"real", "weighted", "classic", "augmented", "augmented-weighted",
                         "gan-only"}  # fmt: skip
    extra = rows["augmented"]["train_images"] - rows["real"]["train_images"]
    assert 0 <= extra <= result["generated_for_augmentation"]
    assert 0 <= rows["augmented"]["acceptance"] <= 1 and rows["real"]["acceptance"] is None
    assert main([*argv, "--recipes", "real,magic", "-q"]) == 2
    # scarcity: only 2 real images of each rare class are kept for training
    assert main([*argv, "--recipes", "real", "--rare-count", "2", "--json", str(out), "-q"]) == 0
    result = json.loads(out.read_text())
    assert result["rare_count"] == 2 and result["rare_classes"]
    assert all(result["train_counts"][c] <= 2 for c in result["rare_classes"])
    with pytest.raises(SystemExit) as refused:  # out of its range: refused at parse time
        main([*argv, "--min-confidence", "1.5", "-q"])
    assert refused.value.code == 2
