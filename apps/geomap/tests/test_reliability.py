"""geomap's options refuse values that would produce garbage, before any work starts."""

import pytest

from app_toolkit.testing import assert_refused_at_parse
from geomap.cli import main


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "scene.tif", "--out", "m", "--epochs=0"],
        ["run", "scene.tif", "--out", "m", "--k=-3"],
        ["run", "scene.tif", "--out", "m", "--sample=0"],
        ["synth", "d", "--clouds=nan"],
    ],
)
def test_bad_option_values_fail_at_parse_time(argv, tmp_path):
    assert_refused_at_parse(main, argv, tmp_path)
