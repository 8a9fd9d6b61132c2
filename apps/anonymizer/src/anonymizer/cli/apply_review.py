"""``anonymize apply-review``: re-render outputs from edited review files."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from anonymizer.cli.common import COMMON, METHOD_HELP, SD, anonymizer_config
from anonymizer.config import METHODS
from app_toolkit.cli import add_device_option

log = logging.getLogger("anonymizer")

EPILOG = """\
A review file (OUT/_anonymize/reviews/<path>.json) lists every replaced box:
  {"box": [x0, y0, x1, y1], "label": "face" | "plate", "score": ..., "method": ...}
Add a box you saw missed (score may be null), delete a false one, or set another "method" for
one box; then re-render. The original input is read again, so nothing is replaced twice.

examples:
  anonymize apply-review anon/_anonymize/reviews/cam1/000123.jpg.json
  anonymize apply-review anon/_anonymize/reviews/ --method blur
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "apply-review",
        parents=[COMMON, SD],
        help="re-render outputs from edited review files",
        description="Re-render anonymized outputs from their review files: exactly the boxes "
        "listed are replaced in the original input and the output is rewritten.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("reviews", nargs="+", metavar="REVIEW", help="review JSON files or folders")
    parser.add_argument(
        "--preview", action="store_true", help="also rewrite the previews with the boxes drawn"
    )
    add_device_option(parser)
    parser.add_argument(
        "--method",
        choices=METHODS,
        help=METHOD_HELP + " (default: each box's own method from the review file)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from anonymizer.pipeline import apply_reviews

    files = []
    for spec in args.reviews:
        path = Path(spec)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*.json") if not p.name.startswith("."))
        elif path.is_file():
            files.append(path)
        else:
            raise ValueError(f"review {spec!r}: no such file or folder")
    if not files:
        raise ValueError(f"no review files (*.json) in {', '.join(args.reviews)}")
    override = args.method
    args.method = override or "cv-inpaint"
    results = apply_reviews(
        files,
        anonymizer_config(args),
        method=override,
        preview=args.preview,
        progress=not args.quiet,
    )
    boxes = sum(r["boxes"] for r in results)
    log.info("Re-rendered %d outputs (%d boxes) from their review files", len(results), boxes)
    return 0
