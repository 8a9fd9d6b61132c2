"""Every command starts fast and quietly: parsing (``--help``, ``--version``, each subcommand's
``--help``) imports none of the heavy libraries, and a normal run prints no other library's
banners, warnings or cache rebuilds."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import pytest

from app_toolkit.testing import assert_home_clean, run_cli

# command → package whose ``cli.main`` it runs
COMMANDS = {
    "anonymize": "anonymizer",
    "art-restore": "art_restore",
    "geomap": "geomap",
    "seed-gan": "seed_gan",
    "traffic-signs": "traffic_signs",
    "core-flows": "core_flows",
    "affine-sr": "affine_sr",
}
HEAVY = (
    "torch", "torchvision", "cv2", "onnxruntime", "sklearn", "rasterio", "diffusers",
    "transformers", "ultralytics", "matplotlib", "scipy", "accelerate", "skimage", "safetensors",
)  # fmt: skip
STARTUP_LIMIT = 0.5  # seconds for `COMMAND --version`, the interpreter's own start included

PARSE_ALL = """
import argparse, contextlib, io, json, sys
from {package}.cli import main

def subcommand_paths(parser, prefix=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name)
                yield from subcommand_paths(sub, (*prefix, name))

heavy = {{}}
for argv in [["--version"], ["--help"]] + [[*p, "--help"] for p in subcommand_paths(main.parser())]:
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            main(argv)
        except SystemExit:
            pass
    loaded = [m for m in {heavy} if m in sys.modules]
    if loaded:
        heavy[" ".join(argv)] = loaded
print(json.dumps(heavy))
"""


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_parsing_imports_no_heavy_library(command):
    code = PARSE_ALL.format(package=COMMANDS[command], heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-800:]
    heavy = json.loads(done.stdout.strip().splitlines()[-1])
    assert not heavy, f"{command}: parsing these imports heavy libraries: {heavy}"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_version_starts_within_half_a_second(command, tmp_path):
    times = []
    for _ in range(3):  # best of three: a busy machine only ever adds time
        start = time.perf_counter()
        done = run_cli(COMMANDS[command], ["--version"], tmp_path)
        times.append(time.perf_counter() - start)
        assert done.returncode == 0 and command in done.stdout, done.stderr[-400:]
    assert min(times) <= STARTUP_LIMIT, f"{command} --version: {min(times):.2f} s"


# Each command's quick start, as the README shows it: data preparation, then the main command
# (run twice, the second time with the third-party caches the first one left).
QUICK_STARTS = {
    "geomap": (["geomap", "synth", "{d}/g", "--size", "64x64", "--units", "3"],
               ["geomap", "run", "{d}/g/scene.tif", "--out", "{o}", "--k", "3"]),
    "traffic-signs": (["traffic_signs", "synth", "{d}/t", "--train", "1", "--val", "1",
                       "--per-class", "1"],
                      ["traffic_signs", "detect", "{d}/t/detect/images/val", "--out", "{o}"]),
    "seed-gan": (["seed_gan", "synth", "{d}/s", "--total", "8"],
                 ["seed_gan", "grade", "{d}/s", "--out", "{o}"]),
    "anonymize": (["anonymizer", "synth", "{d}/a", "--count", "1", "--video-frames", "0"],
                  ["anonymizer", "run", "{d}/a/scene_000.jpg", "--out", "{o}"]),
    "art-restore": (["anonymizer", "synth", "{d}/r", "--count", "1", "--video-frames", "0"],
                    ["art_restore", "restore", "{d}/r/scene_000.jpg", "--out", "{o}"]),
    "affine-sr": (["seed_gan", "synth", "{d}/u", "--total", "4"],
                  ["affine_sr", "upscale", "{d}/u", "--out", "{o}", "--tile", "0"]),
    "core-flows": (None, ["core_flows", "sample", "finc-digits", "--out", "{o}/s.png", "-n", "4"]),
}  # fmt: skip
# what other libraries print when left alone: banners, warnings, cache rebuilds
THIRD_PARTY = re.compile(
    r"Ultralytics|fontManager|Matplotlib is building|Warning|warnings\.warn|Traceback|onnxruntime"
)


@pytest.mark.parametrize("command", sorted(QUICK_STARTS))
def test_quick_start_prints_only_our_lines_and_builds_caches_once(command, tmp_path):
    home, data = tmp_path / "home", tmp_path / "data"
    prepare, main = QUICK_STARTS[command]

    def run(argv, out):
        argv = [a.format(d=data, o=out) for a in argv]
        done = run_cli(argv[0], argv[1:], home)
        assert done.returncode == 0, done.stderr[-800:]
        stray = THIRD_PARTY.findall(done.stdout + done.stderr)
        assert not stray, f"{' '.join(argv)} printed {stray}: {(done.stdout + done.stderr)[-800:]}"

    if prepare:
        run(prepare, "")
    run(main, tmp_path / "out1")
    cache = home / ".cache" / "app-toolkit"
    # matplotlib's font list and ultralytics' settings are built once (onnxruntime's own
    # database of its telemetry session is rewritten by every import, and stays in the cache)
    built = {
        p: p.stat().st_mtime_ns
        for p in cache.rglob("*")
        if p.is_file() and "onnxruntime" not in p.relative_to(cache).parts
    }
    run(main, tmp_path / "out2")
    rebuilt = [p.name for p, t in built.items() if p.stat().st_mtime_ns != t]
    assert not rebuilt, f"{command} rebuilt {rebuilt} on its second run"
    assert_home_clean(home)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_numeric_default_passes_its_own_range_check(command):
    """The range checks (app_toolkit.cli.FLOAT_RANGES, INT_RANGES) never refuse a default."""
    import argparse
    import importlib

    def numeric_defaults(parser, path=()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from numeric_defaults(sub, (*path, name))
            elif getattr(action.type, "__name__", None) in ("int", "float"):
                if isinstance(action.default, int | float):
                    yield " ".join(path), action

    main = importlib.import_module(f"{COMMANDS[command]}.cli").main
    for where, action in numeric_defaults(main.parser()):
        try:
            action.type(str(action.default))
        except argparse.ArgumentTypeError as err:
            raise AssertionError(f"{command} {where} {action.option_strings}: {err}") from None


def test_lazy_package_names_and_submodules_load_on_first_use():
    code = (
        "import sys, anonymizer; assert 'torch' not in sys.modules and 'cv2' not in sys.modules; "
        "anonymizer.pipeline.anonymize_files; anonymizer.Detection; print(sorted(dir(anonymizer))[:3])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-400:]
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        getattr(__import__("geomap"), "nothing")  # noqa: B009
