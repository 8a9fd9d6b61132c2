"""geomap's options refuse values that would produce garbage, before any work starts."""

import pytest

from app_toolkit.testing import parse_error
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
def test_bad_option_values_fail_at_parse_time(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert parse_error(main, argv) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
