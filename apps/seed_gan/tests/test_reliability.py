"""seed-gan's options refuse values that would produce garbage, before any work starts."""

import pytest

from app_toolkit.testing import assert_refused_at_parse
from seed_gan.cli import main


@pytest.mark.parametrize(
    "argv",
    [
        ["gan", "train", "seeds", "--out", "g", "--ema-decay=nan"],
        ["gan", "train", "seeds", "--out", "g", "--steps=0"],
        ["gan", "train", "seeds", "--out", "g", "--batch-size=100000"],
        ["classify", "train", "seeds", "--out", "c", "--epochs=0"],
        ["grade", "lot", "--out", "r", "--level=inf"],
    ],
)
def test_bad_option_values_fail_at_parse_time(argv, tmp_path):
    assert_refused_at_parse(main, argv, tmp_path)
