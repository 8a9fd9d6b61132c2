"""``seed-gan classify train|evaluate``: the purity classifier."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from app_toolkit.files import write_json
from seed_gan.cli.common import COMMON, DEVICE, TRAINING
from seed_gan.options import ARCHITECTURES

log = logging.getLogger("seed_gan")

TRAIN_EPILOG = """\
outputs in DIR:
  model/          the classifier (config.json + model.safetensors), for `grade`, `select`, `evaluate`
  metrics.json    test-split accuracy, per-class precision/recall/F1, macro-F1, confusion matrix
  confusion.png   the test-split confusion matrix          losses.png   training loss

examples:
  seed-gan classify train seeds/ --out clf/ --arch resnet18 --epochs 20
  seed-gan classify train seeds/ --out clf_gan/ --gan gan/ --augment-with-gan 2000
  seed-gan classify train seeds/ --out clf_ft/ --init-weights resnet18-imagenet.safetensors
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "classify",
        help="train the seed classifier, or evaluate one",
        description="A torchvision CNN that grades one kernel image as one of the class folders.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    train = actions.add_parser(
        "train",
        parents=[COMMON, DEVICE, TRAINING],
        help="train on a folder with one subfolder per class",
        description="Train on the train split of DATA (DATA/<class>/*; a file's split comes from "
        "a hash of its name, both views <id>_top/<id>_bottom together) and evaluate on its test "
        "split.",
        epilog=TRAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("data", metavar="DATA", help="image folder, one subfolder per class")
    train.add_argument("--out", required=True, metavar="DIR", help="output folder")
    train.add_argument(
        "--arch", choices=ARCHITECTURES, default="resnet18", help="(default: %(default)s)"
    )
    budget = train.add_mutually_exclusive_group()
    budget.add_argument("--epochs", type=int, default=15, help="(default: %(default)s)")
    budget.add_argument(
        "--steps", type=int, help="optimiser steps instead of epochs (a fixed training budget)"
    )
    train.add_argument("--lr", type=float, default=1e-3, help="Adam rate (default: %(default)s)")
    train.add_argument(
        "--init-weights",
        metavar="FILE",
        help="start from local weights of --arch (.safetensors or a .pt state dict), e.g. "
        "ImageNet weights downloaded elsewhere; the head is replaced",
    )
    train.add_argument("--gan", metavar="DIR", help="`gan train` output for --augment-with-gan")
    train.add_argument(
        "--augment-with-gan",
        type=int,
        default=0,
        metavar="N",
        help="add N generated images, given to the rarest classes first until the classes are "
        "level (default: %(default)s)",
    )
    train.add_argument(
        "--class-weighted",
        action="store_true",
        help="weight the loss by inverse class frequency (another answer to imbalance)",
    )
    train.set_defaults(run=run_train)

    evaluate = actions.add_parser(
        "evaluate",
        parents=[COMMON, DEVICE],
        help="accuracy, per-class precision/recall/F1, macro-F1, confusion matrix",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    evaluate.add_argument("model", metavar="MODEL", help="`classify train` output folder")
    evaluate.add_argument("data", metavar="DATA", help="image folder, one subfolder per class")
    evaluate.add_argument(
        "--split", choices=("test", "val", "train", "all"), default="test", help="which images"
    )
    evaluate.add_argument("--out", metavar="DIR", help="write metrics.json and confusion.png")
    evaluate.set_defaults(run=run_evaluate)

    calibrate = actions.add_parser(
        "calibrate",
        parents=[COMMON],
        help="fit the temperature and the out-of-distribution check of a trained classifier",
        description="Fit the softmax temperature on the validation split of DATA and keep "
        "features of its train split as the reference of the out-of-distribution check "
        "(`classify train` does this itself); written into MODEL as confidence.safetensors.",
    )
    calibrate.add_argument("model", metavar="MODEL", help="`classify train` output folder")
    calibrate.add_argument("data", metavar="DATA", help="the image folder it was trained on")
    calibrate.set_defaults(run=run_calibrate)


def run_train(args: argparse.Namespace) -> int:
    import torch

    from app_toolkit.devices import resolve_device
    from app_toolkit.files import check_output_dir
    from seed_gan.augment import augment_with_gan
    from seed_gan.classifier import SeedClassifier, evaluate, train_classifier
    from seed_gan.data import SeedImages

    check_output_dir(args.out, [args.data])
    from seed_gan.gan import load_generator

    if args.augment_with_gan and not args.gan:
        raise ValueError("--augment-with-gan needs --gan DIR (a `gan train` output)")
    if args.augment_with_gan < 0:
        raise ValueError(f"--augment-with-gan must be >= 0, got {args.augment_with_gan}")
    device = resolve_device(args.device)
    train = SeedImages(args.data, "train", args.size)
    test = SeedImages(args.data, "test", args.size, classes=train.classes)
    model = SeedClassifier(train.classes, args.arch, args.size)
    if args.init_weights:
        model.load_backbone(args.init_weights)
    log.info("Training on %d images: %s", len(train), train.class_counts())
    dataset, generated = train, {}
    if args.augment_with_gan:
        generator = load_generator(args.gan)
        dataset, generated, _ = augment_with_gan(train, generator, args.augment_with_gan, args.seed)
        log.info("Added generated images: %s", generated)
    weights = None
    if args.class_weighted:
        counts = torch.tensor(list(train.class_counts().values()), dtype=torch.float)
        counts += torch.tensor([generated.get(c, 0) for c in train.classes], dtype=torch.float)
        weights = counts.sum() / (len(counts) * counts.clamp(min=1))
    model, losses = train_classifier(
        model,
        dataset,
        epochs=args.epochs,
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        device=device.type,
        class_weights=weights,
        progress=not args.quiet,
    )
    out = Path(args.out)
    model.save_pretrained(out / "model")
    try:
        model.confidence, calibration = _calibrate(model, args.data, train)
        model.confidence.save(out / "model")
    except ValueError as err:  # too few images for a validation split
        log.warning("not calibrated: %s", err)
        calibration = None
    result = evaluate(model, test, train.classes)
    result.update(
        split="test",
        calibration=calibration,
        train_counts=train.class_counts(),
        generated=generated,
        losses=losses,
        skipped=train.skipped + test.skipped,
    )
    write_json(out / "metrics.json", result)
    _plot_losses(losses, out / "losses.png")
    from seed_gan.plots import plot_confusion

    plot_confusion(result, out / "confusion.png")
    print_result(result)
    log.info("Results saved to %s", out)
    return 0


def _calibrate(model, data: str, train) -> tuple:
    from seed_gan.confidence import calibrate
    from seed_gan.data import SeedImages

    val = SeedImages(data, "val", model.size, classes=model.classes)
    confidence, report = calibrate(model, train, val)
    log.info(
        "Calibrated on %d validation images: temperature %.2f, calibration error %.3f -> %.3f; "
        "out-of-distribution distance above %.3f", len(val), report["temperature"],
        report["val_ece_before"], report["val_ece_after"], report["threshold"],
    )  # fmt: skip
    return confidence, report


def run_calibrate(args: argparse.Namespace) -> int:
    from seed_gan.classifier import load_classifier
    from seed_gan.data import SeedImages

    model = load_classifier(args.model, confidence=False)  # an earlier calibration is replaced
    folder = Path(args.model)
    folder = folder / "model" if (folder / "model" / "config.json").is_file() else folder
    train = SeedImages(args.data, "train", model.size, classes=model.classes)
    confidence, report = _calibrate(model, args.data, train)
    confidence.save(folder)
    print(
        f"temperature {report['temperature']:.2f}; validation calibration error "
        f"{report['val_ece_before']:.3f} -> {report['val_ece_after']:.3f}; "
        f"{100 * report['val_flagged']:.1f}% of validation kernels flagged as unlike training"
    )
    log.info("Saved %s", folder / "confidence.safetensors")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from app_toolkit.devices import resolve_device
    from seed_gan.classifier import evaluate, load_classifier
    from seed_gan.data import SeedImages
    from seed_gan.plots import plot_confusion

    model = load_classifier(args.model, str(resolve_device(args.device)))
    data = SeedImages(
        args.data, None if args.split == "all" else args.split, model.size, classes=model.classes
    )
    result = evaluate(model, data, model.classes)
    result.update(split=args.split, skipped=data.skipped)
    if args.out:
        write_json(Path(args.out) / "metrics.json", result)
        plot_confusion(result, Path(args.out) / "confusion.png")
        log.info("Results saved to %s", args.out)
    print_result(result)
    return 0


def print_result(result: dict) -> None:
    n = sum(v["support"] for v in result["per_class"].values())
    print(
        f"{result['split']} split, {n} images: accuracy {result['accuracy']:.3f}, "
        f"macro-F1 {result['macro_f1']:.3f}"
    )
    if result.get("ece_calibrated") is not None:
        print(
            f"expected calibration error {result['ece']:.3f} "
            f"({result['ece_calibrated']:.3f} with the fitted temperature)"
        )
    print(f"{'class':<12} {'precision':>9} {'recall':>7} {'F1':>6} {'images':>7}")
    for name, m in result["per_class"].items():
        print(
            f"{name:<12} {m['precision']:>9.3f} {m['recall']:>7.3f} {m['f1']:>6.3f} "
            f"{m['support']:>7d}"
        )


def _plot_losses(losses: list[float], path: Path) -> None:
    from app_toolkit.plots import plot_curves

    epochs = list(range(1, len(losses) + 1))
    plot_curves({"train": (epochs, losses)}, path, xlabel="epoch", ylabel="cross-entropy")
