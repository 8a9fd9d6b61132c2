"""Install every package alone into its own virtualenv and run its own tests there.

    python3.11 tools/test_each_package.py            # all eight, in .venvs/NAME
    python3.11 tools/test_each_package.py geomap     # one

Each environment gets the package with its ``test`` extra and nothing else (``pip check`` must be
clean), so an import of something undeclared fails here even when the shared ``.venv`` has it.
PyTorch, which every package needs, is installed once into ``.venvs/_torch`` and shared through a
``.pth`` file (see ``install_package.py --shared-site``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import venv

from install_package import CONSTRAINTS, resolve_target, site_packages
from install_package import main as install
from layout import ROOT, load_packages

VENVS = ROOT / ".venvs"


def shared_torch() -> str:
    """site-packages of ``.venvs/_torch``, holding PyTorch (pinned) and its dependencies only."""
    env = VENVS / "_torch"
    site = site_packages(env)
    if not (site / "torch").is_dir():
        venv.create(env, with_pip=True)
        python = str(env / "bin" / "python")
        subprocess.run(
            [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-c",
             str(CONSTRAINTS), "torch"],
            check=True,
        )
    return str(site)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("packages", nargs="*", help="folders or install names (default: all)")
    args = parser.parse_args(argv)
    packages = load_packages()
    names = [resolve_target(p, packages) for p in args.packages] or list(packages)
    site = shared_torch()
    results = []
    for name in names:
        package = packages[name]
        env = VENVS / package.import_name
        start = time.perf_counter()
        print(f"== {name}: install", flush=True)
        install([str(package.folder), "--venv", str(env), "--extras", "test",
                 "--shared-site", site, "--check"])
        installed = time.perf_counter()
        print(f"== {name}: pytest {package.folder}", flush=True)
        # The environment's own interpreter, not this one: only what the package declares.
        environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        code = subprocess.run(
            [str(env / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
             str(package.folder)],
            cwd=ROOT,
            env=environ,
        ).returncode
        results.append((name, code, installed - start, time.perf_counter() - installed))
    print(f"\n{'package':<15} {'result':<7} {'install s':>9} {'tests s':>8}")
    for name, code, install_s, test_s in results:
        print(f"{name:<15} {'passed' if code == 0 else 'FAILED':<7} {install_s:9.0f} {test_s:8.0f}")
    failed = [name for name, code, *_ in results if code != 0]
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
