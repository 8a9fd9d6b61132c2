"""Recipe for the models shipped in traffic_signs' package data (``pretrained/detector`` and
``pretrained/context``).

Writes synthetic road scenes (`traffic_signs.synth`), trains the small YOLOv8 sign detector and the
YOLOv8 scene-context classifier with ultralytics, offline, on CPU, evaluates both on held-out
scenes drawn with another seed, and copies them with model cards (figures from this run) into
``apps/traffic_signs/src/traffic_signs/pretrained/``. Anyone can rerun it:

    .venv/bin/python tools/train_default_sign_models.py
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "apps" / "traffic_signs" / "src" / "traffic_signs" / "pretrained"

DETECTOR_CARD = """# traffic-signs default detector

A small YOLOv8 detector (`traffic_signs/cfg/detector.yaml`: the YOLOv8 layout at width ×0.125,
{params:,} parameters) for {nc} sign classes: {names}. `traffic-signs detect` and `audit` use it
unless `--weights` is given.

**Trained on synthetic road scenes only** (`traffic-signs synth`: roads drawn in perspective with
bends, divided roads, side roads, warning and regulatory signs, trees, vehicles, fog, rain, blur and
occlusion). It shows that the software works end to end and must not audit real roads: train your
own on a real YOLO dataset with `traffic-signs train`.

| | |
|---|---|
| data | {train} train / {val} val scenes, 320×240, seed 0 |
| training | ultralytics, {epochs} epochs, imgsz {imgsz}, batch {batch} (one optimiser step per batch: `nbs={batch}`), no mirror flips (they turn a left-hand sign into a right-hand one), seed 0, CPU, {minutes:.1f} min |
| held-out scenes ({test} images, seed 1) | mAP@0.5 **{map50:.3f}**, mAP@0.5:0.95 **{map:.3f}** |

Recipe: `.venv/bin/python tools/train_default_sign_models.py` (figures above from that run).
"""

CONTEXT_CARD = """# traffic-signs default scene-context classifier

A YOLOv8 classifier (`traffic_signs/cfg/context.yaml`: YOLOv8-cls at width ×0.25, {params:,}
parameters) that says which warning sign the road ahead calls for: {names}. `traffic-signs missing
predict` and `audit` use it unless `--context-weights` is given.

**Trained on synthetic road scenes only**, following the C4MTS recipe: every training scene lacks
its context sign, half drawn without it and half drawn with it and then inpainted away (OpenCV
Telea), so the classifier must read the road, not the sign. Not for real roads.

| | |
|---|---|
| data | {train} train / {val} val scenes ({per_class} per class), 320×240 resized to {imgsz}, seed 0 |
| training | ultralytics, {epochs} epochs, batch {batch} (`nbs={batch}`), no flips (they swap left and right), seed 0, CPU, {minutes:.1f} min |
| held-out scenes (seed 1) | top-1 **{top1:.3f}** over {test} scenes; {top1_inpainted:.3f} on inpainted, {top1_absent:.3f} on truly absent, {top1_context:.3f} on the four sign categories only |

Recipe: `.venv/bin/python tools/train_default_sign_models.py` (figures above from that run).
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default="out/traffic_signs_recipe")
    parser.add_argument("--det-train", type=int, default=800)
    parser.add_argument("--det-val", type=int, default=100)
    parser.add_argument("--det-epochs", type=int, default=50)
    parser.add_argument("--ctx-train", type=int, default=200, help="scenes per class")
    parser.add_argument("--ctx-epochs", type=int, default=40)
    parser.add_argument("--only", choices=("detector", "context"))
    args = parser.parse_args()

    from traffic_signs.context import evaluate_context
    from traffic_signs.synth import write_detection_set, write_missing_set
    from traffic_signs.yolo import builtin_config, load_yolo, train_yolo

    work = Path(args.work)
    if args.only != "context":
        det = work / "detect"
        data = write_detection_set(det / "data", args.det_train, args.det_val, seed=0)
        test = write_detection_set(det / "test", 0, args.det_val, seed=1)
        model = load_yolo(builtin_config("detector"), "detect", "detector")
        start = time.time()
        train_yolo(
            model, data, det, epochs=args.det_epochs, imgsz=320, batch=16, device="cpu", nbs=16,
        )  # fmt: skip
        minutes = (time.time() - start) / 60
        trained = load_yolo(det / "model", "detect", "detector")
        metrics = trained.val(
            data=str(test), imgsz=320, batch=16, device="cpu", plots=False, workers=0,
            project=str(det.resolve()), name="test", exist_ok=True, verbose=False,
        )  # fmt: skip
        card = DETECTOR_CARD.format(
            params=sum(p.numel() for p in trained.model.parameters()),
            nc=len(trained.model.names),
            names=", ".join(trained.model.names.values()),
            train=args.det_train,
            val=args.det_val,
            epochs=args.det_epochs,
            imgsz=320,
            batch=16,
            minutes=minutes,
            test=args.det_val,
            map50=metrics.box.map50,
            map=metrics.box.map,
        )
        install(det / "model", TARGET / "detector", card)

    if args.only != "detector":
        ctx = work / "context"
        n = args.ctx_train
        write_missing_set(ctx / "data", seed=0, per_split=(n, n // 4), splits=("train", "val"))
        write_missing_set(ctx / "test", seed=1, per_split=(40,), splits=("test",))
        model = load_yolo(builtin_config("context"), "classify", "context")
        start = time.time()
        train_yolo(
            model, ctx / "data", ctx, epochs=args.ctx_epochs, imgsz=160, batch=32, device="cpu",
            nbs=32, scale=0.0, erasing=0.0, auto_augment=None,
        )  # fmt: skip
        minutes = (time.time() - start) / 60
        trained = load_yolo(ctx / "model", "classify", "context")
        result = evaluate_context(trained, ctx / "test" / "test")
        (ctx / "test_metrics.json").write_text(json.dumps(result, indent=2))
        card = CONTEXT_CARD.format(
            params=sum(p.numel() for p in trained.model.parameters()),
            names=", ".join(trained.model.names.values()),
            train=5 * n,
            val=5 * (n // 4),
            per_class=n,
            imgsz=160,
            epochs=args.ctx_epochs,
            batch=32,
            minutes=minutes,
            test=result["images"],
            top1=result["top1"],
            top1_inpainted=result["top1_inpainted"],
            top1_absent=result["top1_absent"],
            top1_context=result["top1_context"],
        )
        install(ctx / "model", TARGET / "context", card)
    return 0


def install(source: Path, target: Path, card: str) -> None:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    (target / "MODEL_CARD.md").write_text(card)
    print(f"wrote {target} ({sum(f.stat().st_size for f in target.iterdir()) / 1e6:.1f} MB)")


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
