"""Does ``seed-gan grade`` send photographs unlike its training kernels to review? Three lots graded
with a classifier (the shipped one by default): the test split of a synthetic kernel set, crops of
scikit-image's sample photographs (1/6 to 1/2 of each photo's side, six per photo), and drawn shapes
(1-3 filled circles or rectangles on a flat background). Prints, per lot, the share not graded
(unlike the training kernels), the share sent to review for either reason, and the median softmax
confidence; with ``--data`` the classifier's test-split calibration error too.

    .venv/bin/seed-gan synth DATA --total 2000 --size 64 --seed 0
    .venv/bin/python tools/bench_seed_confidence.py DATA --out out/seed_confidence
"""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry",
          "hubble_deep_field", "retina", "colorwheel")  # fmt: skip


def write_lots(data: Path, out: Path, seed: int = 0) -> dict[str, Path]:
    """The three lots as image folders under ``out``."""
    import cv2
    from skimage import data as samples

    from seed_gan.data import list_images, split_of

    lots = {name: out / name for name in ("test split", "photo crops", "drawn shapes")}
    for folder in lots.values():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    files, _ = list_images(data)
    for path, _ in files:
        if split_of(path) == "test":
            shutil.copy(path, lots["test split"] / f"{Path(path).parent.name}_{Path(path).name}")
    rng = np.random.default_rng(seed)
    for name in PHOTOS:
        photo = getattr(samples, name)()
        photo = np.stack([photo] * 3, -1) if photo.ndim == 2 else photo[..., :3]
        h, w = photo.shape[:2]
        for k in range(6):
            side = int(rng.integers(min(h, w) // 6, min(h, w) // 2))
            y, x = int(rng.integers(0, h - side)), int(rng.integers(0, w - side))
            crop = np.ascontiguousarray(photo[y : y + side, x : x + side])
            Image.fromarray(crop).save(lots["photo crops"] / f"{name}_{k}.png")
    for k in range(40):
        canvas = np.full((64, 64, 3), rng.integers(0, 256, 3), np.uint8)
        for _ in range(int(rng.integers(1, 4))):
            color = tuple(int(c) for c in rng.integers(0, 256, 3))
            if rng.random() < 0.5:
                centre = tuple(int(v) for v in rng.integers(10, 54, 2))
                cv2.circle(canvas, centre, int(rng.integers(5, 25)), color, -1)
            else:
                a, b = (tuple(int(v) for v in rng.integers(0, 64, 2)) for _ in range(2))
                cv2.rectangle(canvas, a, b, color, -1)
        Image.fromarray(canvas).save(lots["drawn shapes"] / f"shape_{k}.png")
    return lots


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="a `seed-gan synth` set (its test split is a lot)")
    parser.add_argument("--model", default="default", help="classifier folder (default: shipped)")
    parser.add_argument("--out", type=Path, default=Path("out/seed_confidence"))
    args = parser.parse_args()

    from seed_gan.classifier import evaluate, load_classifier
    from seed_gan.data import SeedImages
    from seed_gan.grade import grade_lot

    model = load_classifier(args.model)
    if model.confidence is None:
        raise SystemExit(f"{args.model} is not calibrated: run `seed-gan classify calibrate`")
    result = evaluate(model, SeedImages(args.data, "test", model.size), model.classes)
    print(f"test split: expected calibration error {result['ece']:.3f} -> "
          f"{result['ece_calibrated']:.3f} (temperature {model.confidence.temperature:.2f})")  # fmt: skip
    print("| lot | kernels | not graded | sent to review | median softmax confidence |")
    print("|---|---:|---:|---:|---:|")
    for name, folder in write_lots(args.data, args.out / "lots").items():
        report = args.out / "reports" / name.replace(" ", "_")
        shutil.rmtree(report, ignore_errors=True)
        summary = grade_lot(folder, model, report, progress=False)
        rows = list(csv.DictReader((report / "seeds.csv").open()))
        review = np.mean([r["review"] == "1" for r in rows])
        confidence = np.median([float(r["confidence"]) for r in rows])
        print(f"| {name} | {summary['kernels']} | {summary['ungraded'] / summary['kernels']:.1%} "
              f"| {review:.1%} | {confidence:.3f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
