"""``seed-gan grade``: every kernel's class and the lot's purity."""

from __future__ import annotations

import argparse
import logging

from seed_gan.cli.common import COMMON, DEVICE

log = logging.getLogger("seed_gan")

EPILOG = """\
outputs in DIR:
  seeds.csv      one row per kernel: files, class, confidence, review flag, class probabilities
  summary.json   purity with its interval, counts and shares per class, unreadable files
  summary.png    counts per class                 report.html  summary, chart, example kernels

examples:
  seed-gan grade lot_0421/ --out report_0421/
  seed-gan grade lot_0421/ --out report_0421/ --model clf/ --level 0.99
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "grade",
        parents=[COMMON, DEVICE],
        help="per-seed classes and the lot's purity",
        description="Grade every kernel photographed in LOT_DIR (any image files, in subfolders "
        "too; <id>_top and <id>_bottom are the two views of one kernel and are graded together) "
        "and report the lot's purity with a confidence interval. Unreadable files are listed "
        "and left out.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("lot", metavar="LOT_DIR", help="folder of kernel images")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--model",
        default="default",
        help="`classify train` output folder, or `default`: the shipped classifier trained on "
        "synthetic kernels (default: %(default)s)",
    )
    parser.add_argument(
        "--pure-class", default="pure", help="the class counted as pure (default: %(default)s)"
    )
    parser.add_argument(
        "--level", type=float, default=0.95, help="confidence level (default: %(default)s)"
    )
    parser.add_argument(
        "--review-below",
        type=float,
        default=0.6,
        help="flag kernels graded with lower confidence (default: %(default)s)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app_toolkit.devices import resolve_device
    from seed_gan.classifier import load_classifier
    from seed_gan.grade import grade_lot

    device = str(resolve_device(args.device))
    model = load_classifier(args.model, device)
    summary = grade_lot(
        args.lot,
        model,
        args.out,
        pure_class=args.pure_class,
        level=args.level,
        review_below=args.review_below,
        device=device,
        progress=not args.quiet,
    )
    low, high = summary["purity_interval"]
    if summary["graded"]:
        print(
            f"{summary['graded']} kernels graded: purity {100 * summary['purity']:.1f}% "
            f"({100 * args.level:g}% interval {100 * low:.1f}-{100 * high:.1f}%); "
            + ", ".join(f"{c} {n}" for c, n in summary["counts"].items())
        )
    if summary["ungraded"]:
        print(
            f"{summary['ungraded']} of {summary['kernels']} kernels not graded: their photographs "
            "are unlike the kernels the classifier was trained on (marked for review in seeds.csv)"
        )
    if summary["skipped"]:
        print(f"{len(summary['skipped'])} unreadable files left out (listed in summary.json)")
    log.info("Results saved to %s", args.out)
    return 0
