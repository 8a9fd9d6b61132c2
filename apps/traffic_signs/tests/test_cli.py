import subprocess
import sys

import pytest

from traffic_signs.cli import main


def test_help_lists_planned_subcommands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "detect" in capsys.readouterr().out


def test_no_subcommand_is_a_usage_error():
    assert main([]) == 2


def test_console_script_is_installed():
    out = subprocess.run(
        [sys.executable, "-m", "traffic_signs.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "traffic-signs 0.0.1"
