"""The GPU check of core_flows in one prepared run: `gpu` tests, sampling and training timings on
the papers' configurations, a JSON file and the markdown table for docs/benchmarks.md.

    python3 tools/gpu_check.py --out gpu_results            # on a CUDA machine, ~8 minutes
    python3 tools/gpu_check.py --dry-run --out /tmp/dry      # anywhere: tiny sizes, CPU

It needs only what the repository holds and a Python with torch, triton, numpy, safetensors, tqdm,
pytest and matplotlib (a CUDA image has them): the two packages run from their source folders
(no install, nothing fetched). Each step has a time limit; results are written after every step,
so a stopped run still leaves what it measured.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "packages" / "app_toolkit" / "src", ROOT / "packages" / "core_flows" / "src"]
PRESETS = "glow,cinc,finc,finc-published,inverse_flow,emerging"


def steps(out: Path, dry_run: bool) -> list[tuple[str, list[str], int]]:
    """(name, command, seconds allowed) for each step."""
    core = [sys.executable, "-m", "core_flows", "bench"]
    if dry_run:  # tiny shapes on the CPU: proves the plumbing, not the speed
        tiny = ["--width", "8", "--steps", "1", "--repeats", "1", "--device", "cpu"]
        return [
            ("tests", [sys.executable, "-m", "pytest", "-q", "-m", "gpu", "--co",
                       str(ROOT / "packages" / "core_flows" / "tests")], 300),
            ("sampling", [*core, "sampling", "--configs", "mnist", "--batches", "1",
                          "--presets", "glow,finc", *tiny, "--json", str(out / "sampling.json")],
             300),
            ("train", [*core, "train", "--config", "mnist", "--batch", "2", "--presets",
                       "finc,inverse_flow", *tiny, "--json", str(out / "train.json")], 300),
        ]  # fmt: skip
    device = ["--device", "cuda"]
    return [
        ("tests", [sys.executable, "-m", "pytest", "-q", "-m", "gpu",
                   str(ROOT / "packages" / "core_flows" / "tests")], 150),
        ("sampling", [*core, "sampling", "--batches", "1,100", "--presets", PRESETS, *device,
                      "--repeats", "5", "--budget", "3", "--json", str(out / "sampling.json"),
                      "--plot", str(out / "sampling.png")], 240),
        ("train", [*core, "train", "--config", "cifar10", "--batch", "16", "--presets",
                   "glow,finc,inverse_flow", *device, "--repeats", "5",
                   "--json", str(out / "train.json")], 90),
    ]  # fmt: skip


def markdown(out: Path, log: list[dict]) -> str:
    """The table for docs/benchmarks.md from whatever the steps wrote."""
    lines = ["| step | result | seconds |", "|---|---|---|"]
    lines += [f"| {s['name']} | {s['status']} | {s['seconds']:.0f} |" for s in log]
    sampling = out / "sampling.json"
    if sampling.is_file():
        data = json.loads(sampling.read_text())
        env = data.get("environment", {})
        lines += ["", f"Sampling on {env.get('gpu') or env.get('device')}, torch "
                  f"{env.get('torch')}, triton {env.get('triton')}, {env.get('date')}:", "",
                  "| config | batch | preset | sample ms | × glow |", "|---|---|---|---|---|"]  # fmt: skip
        for r in data.get("rows", []):
            ratio = r.get("sample_vs_glow")
            lines.append(
                f"| {r.get('config')} | {r.get('batch')} | {r.get('preset')} | "
                f"{r.get('sample_ms', float('nan')):.2f} | "
                f"{'-' if ratio is None else f'{ratio:.2f}'} |"
            )
    train = out / "train.json"
    if train.is_file():
        data = json.loads(train.read_text())
        lines += ["", "| training step | ms | × finc |", "|---|---|---|"]
        for r in data.get("rows", []):
            ratio = r.get("vs_finc")
            lines.append(
                f"| {r.get('preset')} | {r.get('step_ms', float('nan')):.2f} | "
                f"{'-' if ratio is None else f'{ratio:.2f}'} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("gpu_results"), help="results folder")
    parser.add_argument("--dry-run", action="store_true", help="tiny sizes on the CPU")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "MPLCONFIGDIR": str(args.out / ".mpl")}
    env["PYTHONPATH"] = os.pathsep.join([*map(str, SOURCES), str(ROOT / "tools"),
                                         env.get("PYTHONPATH", "")])  # fmt: skip
    if args.dry_run:
        env["CUDA_VISIBLE_DEVICES"] = ""
    log: list[dict] = []
    failed = False
    for name, command, limit in steps(args.out, args.dry_run):
        print(f"== {name} (up to {limit} s)", flush=True)
        start = time.perf_counter()
        try:
            done = subprocess.run(command, cwd=ROOT, env=env, timeout=limit)
            status = "passed" if done.returncode == 0 else f"failed (exit {done.returncode})"
        except subprocess.TimeoutExpired:
            status = f"stopped after {limit} s"
        failed |= status != "passed"
        log.append({"name": name, "status": status, "seconds": time.perf_counter() - start})
        (args.out / "steps.json").write_text(json.dumps(log, indent=2) + "\n")
        (args.out / "table.md").write_text(markdown(args.out, log))
        print(f"== {name}: {status}", flush=True)
    print((args.out / "table.md").read_text())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
