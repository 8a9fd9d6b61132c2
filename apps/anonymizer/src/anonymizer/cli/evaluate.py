"""``anonymize evaluate``: run on photos with known regions and score the outputs' pixels."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from anonymizer.cli.common import COMMON, DETECTION, REPLACEMENT, SD, anonymizer_config
from anonymizer.config import REPORT_DIR

log = logging.getLogger("anonymizer")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "evaluate",
        parents=[COMMON, DETECTION, REPLACEMENT, SD],
        help="recall and collateral on photos with known faces and plates",
        description="Anonymize DATA into OUT, then score every image of the truth file on its "
        "pixels: a true face or plate counts as replaced when 70%% of it changed; collateral is "
        "the share of pixels changed away from every true region (lettering and signs smudged); "
        "the target is under 0.1%% of each image. Writes OUT/_anonymize/evaluate.json.",
        epilog='truth file: {"street.jpg": [{"box": [x0, y0, x1, y1], "label": "face"}]}'
        " (the format `anonymize synth` writes)",
    )
    parser.add_argument("data", metavar="DATA", help="folder of images")
    parser.add_argument("--truth", required=True, metavar="JSON", help="truth boxes per image")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument("--overwrite", action="store_true", help="redo outputs already there")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from anonymizer.evaluate import COLLATERAL_LIMIT, check_truth, score_outputs
    from anonymizer.pipeline import anonymize_files
    from anonymizer.verify import load_truth
    from app_toolkit.files import write_json

    # A bad truth file fails before the work, naming the file, image and box.
    try:
        checked = check_truth(args.data, load_truth(args.truth))
    except ValueError as err:
        message = str(err)
        if not message.startswith("--truth"):
            message = f"--truth {args.truth}: {message}"
        raise ValueError(message) from None
    if checked["missing"]:
        names = ", ".join(checked["missing"][:5]) + (", ..." if len(checked["missing"]) > 5 else "")
        log.warning(
            "%d truth entries name files not in %s, not scored: %s",
            len(checked["missing"]),
            args.data,
            names,
        )
    if checked["clipped"]:
        log.warning(
            "%d truth boxes reach past their image and are clipped to it: %s",
            len(checked["clipped"]),
            ", ".join(checked["clipped"][:5]),
        )
    report = anonymize_files(
        [args.data],
        args.out,
        anonymizer_config(args, persist=0),
        overwrite=args.overwrite,
        progress=not args.quiet,
    )
    result = score_outputs(args.data, args.truth, lambda rel: Path(args.out) / rel)
    summary = result["summary"]
    if not summary["images"]:
        raise RuntimeError(
            f"nothing scored: none of the {len(result['images'])} images of {args.truth} could "
            f"be read and anonymized from {args.data}"
        )
    unscored = [r for r in result["images"] if "error" in r and not r.get("missing")]
    for row in unscored:
        log.warning("not scored %s: %s", row["file"], row["error"])
    summary["seconds_per_file"] = report["seconds"] / max(1, report["files"])
    for label in ("face", "plate"):
        s = summary[label]
        if s["true"]:
            print(f"{label}s: {s['replaced']} of {s['true']} replaced ({100 * s['recall']:.1f}%)")
    print(
        f"collateral: largest {100 * summary['collateral_max']:.3f}% of an image, mean "
        f"{100 * summary['collateral_mean']:.3f}%; {summary['images_over_limit']} of "
        f"{summary['images']} images over {100 * COLLATERAL_LIMIT:.1f}%"
    )
    print(f"time: {summary['seconds_per_file']:.2f} s per file")
    path = Path(args.out) / REPORT_DIR / "evaluate.json"
    write_json(path, result)
    log.info("Results saved to %s", path)
    return 1 if unscored else 0
