"""core-flows' options refuse values that would produce garbage, before any work starts."""

import pytest

from app_toolkit.testing import assert_refused_at_parse
from core_flows.cli import main


@pytest.mark.parametrize(
    "argv",
    [
        ["sample", "finc-digits", "--temperature=nan"],
        ["sample", "finc-digits", "--temperature=inf"],
        ["train", "--data", "digits", "--out", "x", "--lr=nan"],
        ["train", "--data", "digits", "--out", "x", "--epochs=0"],
        ["train", "--data", "digits", "--out", "x", "--batch-size=0"],
        ["bench", "conv", "--batch=0"],
        ["evaluate", "finc-digits", "--batch-size=0"],
    ],
)
def test_bad_option_values_fail_at_parse_time(argv, tmp_path):
    assert_refused_at_parse(main, argv, tmp_path)


def test_training_output_inside_the_data_folder_is_refused(tmp_path, capsys):
    data = tmp_path / "faces"
    data.mkdir()
    assert main(["train", "--data", f"folder:{data}", "--out", str(data / "run"), "-q"]) == 2
    assert "lies inside the input folder" in capsys.readouterr().err
    assert list(data.iterdir()) == []
