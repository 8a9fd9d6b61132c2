"""The flow library loads no image, plotting or machine-learning toolkits it does not need."""

import subprocess
import sys

import pytest

HEAVY = ("cv2", "matplotlib", "sklearn", "skimage", "PIL", "accelerate", "diffusers")


@pytest.mark.parametrize("module", ["core_flows", "core_flows.models", "core_flows.cli"])
def test_import_loads_no_heavy_dependency(module):
    code = f"import sys, {module}; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"import {module} loaded {out.stdout.strip()}"
