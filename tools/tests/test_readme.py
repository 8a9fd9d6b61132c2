"""Every README's quick-start block runs as written, in a fresh folder holding the user files it
names (a few small pictures), with training lengths cut down by appending a shorter value of an
option the line already sets (argparse keeps the last one)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from layout import ROOT

# option → the tiny value appended when a quick-start line sets that option
TINY = {
    "--steps": "2",
    "--epochs": "1",
    "--total": "48",
    "--video": "2",
    "--video-frames": "4",
    "--count": "2",
    "--budget": "2",
    "--augment-with-gan": "4",
    "--mix": "1",
    "--crop": "64",
}
# commands whose lengths are defaults, not written on the line
EXTRA = {
    "affine-sr train": ["--ae-steps", "2", "--prior-steps", "2", "--refiner-steps", "2",
                        "--refiner-width", "8", "--refiner-blocks", "1", "--batch-size", "2"],
    "art-restore train": ["--steps", "2", "--batch-size", "2"],
    "affine-sr evaluate": ["--tile", "0"],
    "art-restore evaluate": ["--crop", "64", "--kinds", "noise"],
    "geomap run": ["--epochs", "2", "--sample", "4000"],
    "traffic-signs synth": ["--train", "16", "--val", "8", "--per-class", "6"],
    "traffic-signs train": ["--imgsz", "64", "--batch", "4"],
    "traffic-signs missing train": ["--imgsz", "32", "--batch", "8"],
}
# what a user is assumed to have: a photo, folders of photos
USER_FILES = ["photo.jpg", "scans/a.png", "my_lot/k1_top.png", "my_lot/k1_bottom.png",
              "clean_paintings/p.png", "my_hr_photos/h.png", "new_photos/n.png"]  # fmt: skip


def quick_start(readme: Path) -> list[str]:
    """The command lines of the first ```bash block, comments and the install line left out."""
    block = re.search(r"```bash\n(.*?)```", readme.read_text(), re.S)
    lines = []
    for line in block[1].splitlines() if block else []:
        line = line.split("#", 1)[0].strip()
        if line and "install_package.py" not in line and not line.startswith("."):
            lines.append(line)
    return lines


READMES = sorted([*ROOT.glob("packages/*/README.md"), *ROOT.glob("apps/*/README.md")])
# Over 30 s each on two cores even cut down (several trainings, each a process importing torch):
# `make test-slow` and CI run them.
SLOW = {"seed_gan", "superres", "traffic_signs"}
CASES = [
    pytest.param(r.parent.name, quick_start(r), id=r.parent.name,
                 marks=[pytest.mark.slow] if r.parent.name in SLOW else [])
    for r in READMES
    if quick_start(r)
]  # fmt: skip


def write_user_files(folder: Path) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    for name in USER_FILES:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        base = rng.integers(0, 256, (17, 17, 3), dtype=np.uint8)  # 136 px: trainable crops
        Image.fromarray(np.kron(base, np.ones((8, 8, 1), np.uint8))).save(path)


@pytest.mark.parametrize("package, lines", CASES)
def test_quick_start_runs_as_written(package, lines, tmp_path):
    write_user_files(tmp_path)
    scripts = Path(sys.executable).parent
    for line in lines:
        argv = shlex.split(line)
        for option, value in TINY.items():
            if option in argv:
                argv += [option, value]
        for prefix, extra in EXTRA.items():
            if line.startswith(prefix):
                argv += extra
        done = subprocess.run(
            [str(scripts / argv[0]), *argv[1:], "-q"] if argv[1:] else [str(scripts / argv[0])],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, f"{line!r} failed: {done.stderr[-800:]}"
