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
