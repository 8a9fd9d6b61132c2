"""seed-gan's options refuse values that would produce garbage, before any work starts."""

import pytest

from app_toolkit.testing import assert_refused_at_parse
from seed_gan.cli import main


@pytest.mark.parametrize(
    "argv",
    [
        ["gan", "train", "seeds", "--out", "g", "--ema-decay=nan"],
        ["gan", "train", "seeds", "--out", "g", "--ema-decay=2"],
        ["gan", "train", "seeds", "--out", "g", "--ema-decay=1"],
        ["grade", "lot", "--out", "r", "--review-below=1.5"],
        ["bench", "seeds", "--min-confidence=-0.1"],
        ["gan", "train", "seeds", "--out", "g", "--steps=0"],
        ["gan", "train", "seeds", "--out", "g", "--batch-size=100000"],
        ["classify", "train", "seeds", "--out", "c", "--epochs=0"],
        ["grade", "lot", "--out", "r", "--level=inf"],
    ],
)
def test_bad_option_values_fail_at_parse_time(argv, tmp_path):
    assert_refused_at_parse(main, argv, tmp_path)


@pytest.mark.parametrize("command", [["gan", "train"], ["classify", "train"]])
def test_training_output_inside_the_data_folder_is_refused(command, tmp_path, capsys):
    data = tmp_path / "seeds"
    (data / "pure").mkdir(parents=True)
    assert main([*command, str(data), "--out", str(data / "run"), "-q"]) == 2
    assert "lies inside the input folder" in capsys.readouterr().err
    assert not (data / "run").exists()
