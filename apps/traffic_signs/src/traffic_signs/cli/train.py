"""``traffic-signs train|val``: the detector on a YOLO-format dataset, offline."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from app_toolkit.files import check_output_dir, write_json
from traffic_signs.cli.common import COMMON, DEVICE

log = logging.getLogger("traffic_signs")


def add_parser(sub: argparse._SubParsersAction) -> None:
    for name in ("train", "val"):
        parser = sub.add_parser(
            name,
            parents=[COMMON, DEVICE],
            help="train the sign detector on a YOLO dataset"
            if name == "train"
            else "mAP of a detector on a YOLO dataset's val split",
            description="Ultralytics YOLO on DATA (a data.yaml with train/val image folders and "
            "YOLO label files), offline: no weights, fonts or AMP check are downloaded, mirror "
            "flips are off (they turn left-hand signs into right-hand ones).",
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
        parser.add_argument("data", metavar="DATA", help="data.yaml of a YOLO dataset")
        parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
        parser.add_argument("--imgsz", type=int, default=320, help="image size")
        parser.add_argument("--batch", type=int, default=16, help="batch size")
        if name == "train":
            parser.add_argument(
                "--model",
                default=None,
                help="model YAML (ours: traffic_signs/cfg/detector.yaml, the default; or "
                "ultralytics' yolov8n.yaml, ...) or local .pt weights to fine-tune",
            )
            parser.add_argument("--epochs", type=int, default=40, help="epochs")
            parser.add_argument(
                "--nbs",
                type=int,
                default=64,
                help="nominal batch: gradients of nbs/batch batches make one optimiser step "
                "(ultralytics' default 64; set it to --batch on small datasets)",
            )
            parser.add_argument("--seed", type=int, default=0, help="random seed")
            parser.add_argument(
                "--overwrite", action="store_true", help="replace a model already in --out"
            )
            parser.set_defaults(run=run_train)
        else:
            parser.add_argument("--weights", default="default", help="detector to evaluate")
            parser.set_defaults(run=run_val)


def _check_data(path: str) -> Path:
    data = Path(path)
    if not data.is_file() or data.suffix not in (".yaml", ".yml"):
        raise ValueError(f"{data}: expected the data.yaml of a YOLO dataset")
    return data


def run_train(args: argparse.Namespace) -> int:
    from traffic_signs.yolo import builtin_config, load_yolo, train_yolo, ultralytics_device

    data = _check_data(args.data)
    check_output_dir(args.out, [data.parent])
    model = load_yolo(args.model or builtin_config("detector"), "detect", "detector")
    result = train_yolo(
        model,
        data,
        args.out,
        epochs=args.epochs,
        imgsz=args.imgsz,
        batch=args.batch,
        device=ultralytics_device(args.device),
        seed=args.seed,
        nbs=args.nbs,
        overwrite=args.overwrite,
    )
    log.info("Detector saved to %s (use it with --weights)", result["weights"])
    return 0


def run_val(args: argparse.Namespace) -> int:
    from traffic_signs.detector import load_detector
    from traffic_signs.yolo import no_font_download, staged_dataset, ultralytics_device

    data = _check_data(args.data)
    model = load_detector(args.weights)
    out = Path(args.out).resolve()
    with no_font_download(), staged_dataset(data, out) as staged:
        metrics = model.val(
            data=str(staged),
            imgsz=args.imgsz,
            batch=args.batch,
            device=ultralytics_device(args.device),
            plots=False,
            workers=0,
            project=str(out),
            name="val",
            exist_ok=True,
            verbose=False,
        )
    result = {
        "map50": float(metrics.box.map50),
        "map50_95": float(metrics.box.map),
        "per_class_map50_95": {
            model.model.names[int(c)]: float(m)
            for c, m in zip(
                metrics.box.ap_class_index, metrics.box.maps[metrics.box.ap_class_index]
            )
        },
    }
    write_json(out / "metrics.json", result)
    print(f"mAP@0.5 {result['map50']:.3f}, mAP@0.5:0.95 {result['map50_95']:.3f}")
    log.info("Results saved to %s", out / "metrics.json")
    return 0
