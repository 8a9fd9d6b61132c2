"""``seed-gan select``: batch active learning, which images experts should label next."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from app_toolkit.files import write_csv
from seed_gan.cli.common import COMMON, DEVICE

log = logging.getLogger("seed_gan")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "select",
        parents=[COMMON, DEVICE],
        help="batch active learning: which images to label next",
        description="Rank the unlabelled images by the classifier's uncertainty (margin between "
        "its two most probable classes), keep the most uncertain POOL·BUDGET, cluster their "
        "features into BUDGET groups and take the most uncertain image of each: a batch that is "
        "informative and not BUDGET near-duplicates.",
        epilog="The CSV has: rank, file, predicted, confidence, uncertainty, cluster.\n\n"
        "example:\n  seed-gan select --model clf/ --unlabeled new_photos/ --budget 200 "
        "--out to_label.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="`classify train` output folder")
    parser.add_argument("--unlabeled", required=True, metavar="DIR", help="unlabelled images")
    parser.add_argument("--budget", type=int, required=True, metavar="N", help="images to pick")
    parser.add_argument("--out", required=True, metavar="CSV", help="the list to label")
    parser.add_argument(
        "--pool-factor",
        type=int,
        default=10,
        help="uncertain candidates per pick (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app_toolkit.devices import resolve_device
    from seed_gan.active import margin_uncertainty, select_batch
    from seed_gan.classifier import load_classifier, predict
    from seed_gan.data import find_images, load_images

    model = load_classifier(args.model, str(resolve_device(args.device)))
    root = Path(args.unlabeled)
    files = find_images(root)
    if not files:
        raise ValueError(f"{root}: no images found")
    images, readable, skipped = load_images(files, model.size, progress=not args.quiet)
    if not readable:
        raise ValueError(f"{root}: none of the {len(files)} images is readable")
    probs, features = predict(model, images.float() / 127.5 - 1, features=True)
    chosen, clusters = select_batch(probs, features, args.budget, args.pool_factor, args.seed)
    uncertainty = margin_uncertainty(probs)
    predicted = probs.argmax(1)
    rows = (
        [
            rank,
            str(readable[i].relative_to(root)),
            model.classes[predicted[i]],
            f"{probs[i, predicted[i]]:.4f}",
            f"{uncertainty[i]:.4f}",
            int(c),
        ]
        for rank, (i, c) in enumerate(zip(chosen, clusters), 1)
    )
    header = ["rank", "file", "predicted", "confidence", "uncertainty", "cluster"]
    write_csv(args.out, header, rows)
    if len(chosen) < args.budget:
        log.warning("only %d readable images: all of them are listed", len(chosen))
    print(
        f"{len(chosen)} of {len(readable)} images to label"
        + (f" ({len(skipped)} unreadable left out)" if skipped else "")
    )
    log.info("Results saved to %s", args.out)
    return 0
