"""The prepared GPU check runs end to end at tiny sizes on the CPU (its dry run)."""

import json
import subprocess
import sys

from layout import ROOT


def test_gpu_check_dry_run_writes_json_and_table(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gpu_check.py"), "--dry-run", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-800:] + done.stderr[-800:]
    steps = json.loads((tmp_path / "steps.json").read_text())
    assert [s["name"] for s in steps] == ["tests", "sampling", "train"]
    assert all(s["status"] == "passed" for s in steps)
    table = (tmp_path / "table.md").read_text()
    assert "| mnist | 1 | finc |" in table and "| inverse_flow |" in table
