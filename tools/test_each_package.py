"""Install every package alone into its own virtualenv and run its own tests there.

    python tools/test_each_package.py            # all eight, in .venvs/NAME
    python tools/test_each_package.py geomap     # one
    python tools/test_each_package.py --jobs 1   # one package's tests at a time

Each environment gets the package with its ``test`` extra and nothing else (its requirements
checked), so an import of something undeclared fails here even when the shared ``.venv`` has it.
Environments are made by ``install_package.py`` (uv when it is beside this interpreter; an
environment whose inputs are unchanged is reused). The installs run one after another, then the
test runs ``--jobs`` at a time, the largest suites first, each with its share of the cores; a
package's output is printed whole when it ends.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from install_package import install, resolve_target
from layout import ROOT, load_packages

VENVS = ROOT / ".venvs"


def suite_size(package) -> int:
    """Bytes of test code: a stand-in for how long the suite runs, to start the largest first."""
    return sum(p.stat().st_size for p in (ROOT / package.folder / "tests").rglob("test_*.py"))


def run_tests(package, threads: int) -> tuple[int, float, str]:
    """Its own tests in its own environment: exit code, seconds, output."""
    env = VENVS / package.import_name
    # The environment's own interpreter, not this one: only what the package declares.
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    environ.setdefault("OMP_NUM_THREADS", str(threads))
    start = time.perf_counter()
    done = subprocess.run(
        [str(env / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
         str(package.folder)],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return done.returncode, time.perf_counter() - start, done.stdout


def counts(output: str) -> dict[str, int]:
    """pytest's closing counts, ``{"passed": 36, "skipped": 2}``."""
    lines = output.strip().splitlines()
    found = re.findall(r"(\d+) (passed|failed|skipped|errors?)", lines[-1] if lines else "")
    return {word.rstrip("s") if word.startswith("error") else word: int(n) for n, word in found}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("packages", nargs="*", help="folders or install names (default: all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="test runs at once (default: the number of cores)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    packages = load_packages()
    names = [resolve_target(p, packages) for p in args.packages] or list(packages)

    install_seconds = {}
    for name in names:
        start = time.perf_counter()
        changed = install(name, {"test"}, VENVS / packages[name].import_name, check=True)
        install_seconds[name] = time.perf_counter() - start
        print(f"== {name}: {'installed' if changed else 'up to date'} "
              f"({install_seconds[name]:.0f} s)", flush=True)

    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    order = sorted(names, key=lambda name: -suite_size(packages[name]))
    results = {}
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = {name: pool.submit(run_tests, packages[name], threads) for name in order}
        for name in order:  # printed as they finish in this order; all run meanwhile
            code, seconds, output = futures[name].result()
            results[name] = (code, seconds, counts(output))
            print(f"== {name}: pytest {packages[name].folder} ({seconds:.0f} s)\n{output}",
                  flush=True)

    print(f"\n{'package':<15} {'result':<7} {'install s':>9} {'tests s':>8} {'tests':>6}")
    total = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
    for name in names:
        code, seconds, found = results[name]
        result = "passed" if code == 0 else "FAILED"
        print(f"{name:<15} {result:<7} {install_seconds[name]:9.0f} {seconds:8.0f} "
              f"{found.get('passed', 0):6d}")
        for key in total:
            total[key] += found.get(key, 0)
    failed = [name for name in names if results[name][0] != 0]
    verdict = f"{len(failed)} failed ({', '.join(failed)})" if failed else "all passed"
    print(f"test-each: {len(names)} packages, {verdict}; tests {total['passed']} passed, "
          f"{total['failed'] + total['error']} failed, {total['skipped']} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
