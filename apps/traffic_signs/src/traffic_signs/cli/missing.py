"""``traffic-signs missing train|evaluate|predict``: the scene-context classifier."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from app_toolkit.files import check_output_dir, write_csv, write_json
from traffic_signs.cli.common import COMMON, DEVICE

log = logging.getLogger("traffic_signs")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "missing",
        help="scene-context classifier: which sign the road calls for",
        description="A YOLOv8 classifier that reads a whole frame and says which warning sign "
        "its road calls for (left_curve, right_curve, gap_in_median, side_road_left) or none. "
        "Trained, as in C4MTS, on scenes whose sign was removed by inpainting.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    train = actions.add_parser(
        "train",
        parents=[COMMON, DEVICE],
        help="train on DATA/{train,val}/<category>/",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    train.add_argument("data", metavar="DATA", help="folder with train/ and val/ class folders")
    train.add_argument("--out", required=True, metavar="DIR", help="output folder")
    train.add_argument("--model", help="model YAML or local .pt (default: ours, context.yaml)")
    train.add_argument("--epochs", type=int, default=25)
    train.add_argument("--imgsz", type=int, default=160)
    train.add_argument("--batch", type=int, default=32)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--overwrite", action="store_true", help="replace a model already in --out")
    train.add_argument(
        "--nbs", type=int, default=64, help="nominal batch (ultralytics'); --batch on small sets"
    )
    train.set_defaults(run=run_train)

    evaluate = actions.add_parser(
        "evaluate",
        parents=[COMMON, DEVICE],
        help="top-1 accuracy on DIR/<category>/*.png, inpainted and absent apart",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    evaluate.add_argument("data", metavar="DIR", help="folder of category folders (a test split)")
    evaluate.add_argument("--weights", default="default")
    evaluate.add_argument("--json", metavar="FILE", help="also write the result as JSON")
    evaluate.set_defaults(run=run_evaluate)

    predict = actions.add_parser(
        "predict",
        parents=[COMMON, DEVICE],
        help="the context category of each image",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    predict.add_argument("sources", nargs="+", metavar="SRC", help="images or folders")
    predict.add_argument("--weights", default="default")
    predict.add_argument("--out", metavar="CSV", help="write file, category and probabilities")
    predict.set_defaults(run=run_predict)


def run_train(args: argparse.Namespace) -> int:
    from traffic_signs.yolo import builtin_config, load_yolo, train_yolo, ultralytics_device

    data = Path(args.data)
    if not (data / "train").is_dir() or not (data / "val").is_dir():
        raise ValueError(f"{data}: needs train/ and val/ folders with one subfolder per category")
    check_output_dir(args.out, [data])
    model = load_yolo(args.model or builtin_config("context"), "classify", "context")
    # whole-frame context: no crops, erasing or automatic augmentation that could cut it away
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
        scale=0.0,
        erasing=0.0,
        auto_augment=None,
    )
    log.info("Classifier saved to %s (use it with --weights)", result["weights"])
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from app_toolkit.devices import resolve_device
    from traffic_signs.context import evaluate_context, load_context

    result = evaluate_context(
        load_context(args.weights), args.data, str(resolve_device(args.device))
    )
    print(
        f"{result['images']} scenes: top-1 {result['top1']:.3f} (inpainted "
        f"{result['top1_inpainted']:.3f}, truly absent {result['top1_absent']:.3f}, "
        f"sign categories only {result['top1_context']:.3f})"
    )
    if args.json:
        write_json(args.json, result)
        log.info("Results saved to %s", args.json)
    return 0


def run_predict(args: argparse.Namespace) -> int:
    from app_toolkit.devices import resolve_device
    from app_toolkit.media import MediaError, discover, read_image
    from traffic_signs.context import load_context, predict_context
    from traffic_signs.signs import MISSING_CLASSES

    model = load_context(args.weights)
    frames, names = [], []
    for item in discover(args.sources):
        if item.kind != "image":
            continue
        try:
            frames.append(read_image(item.path)[0])
            names.append(str(item.path))
        except MediaError as err:
            log.warning("skipped %s: %s", item.path, err)
    if not frames:
        raise ValueError(f"no readable image in {', '.join(args.sources)}")
    probs = predict_context(model, frames, str(resolve_device(args.device)))
    rows = []
    for name, p in zip(names, probs):
        k = int(p.argmax())
        rows.append([name, MISSING_CLASSES[k], f"{p[k]:.4f}", *[f"{v:.4f}" for v in p]])
        print(f"{name}: {MISSING_CLASSES[k]} ({p[k]:.2f})")
    if args.out:
        header = ["file", "category", "confidence", *[f"p_{c}" for c in MISSING_CLASSES]]
        write_csv(args.out, header, rows)
        log.info("Results saved to %s", args.out)
    return 0
