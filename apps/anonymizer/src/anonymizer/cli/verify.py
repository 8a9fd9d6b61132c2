"""``anonymize verify``: what the detectors still find in anonymized outputs."""

from __future__ import annotations

import argparse
import logging

from anonymizer.cli.common import COMMON, DETECTION, detector_config
from anonymizer.config import REPORT_DIR

log = logging.getLogger("anonymizer")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "verify",
        parents=[COMMON, DETECTION],
        help="residual detection rate on anonymized outputs",
        description="Run the detectors on anonymized outputs and report how many faces and "
        "plates they still find, per file and in total; the residual rate divides that by what "
        "the run replaced (from its review files). Use other detectors than the run's (e.g. "
        "--face-weights) for an independent check. Writes OUT_DIR/_anonymize/verify.json.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("out_dir", metavar="OUT_DIR", help="folder written by `anonymize run`")
    parser.add_argument("--stride", type=int, default=1, help="videos: check every N-th frame")
    parser.add_argument(
        "--truth",
        metavar="JSON",
        help="known boxes per input (as `anonymize synth` writes them): also report the share of "
        "true faces and plates replaced",
    )
    parser.add_argument(
        "--fail-on-residual",
        action="store_true",
        help="exit with status 1 when anything is still found (for pipelines)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from anonymizer.verify import verify

    report = verify(
        args.out_dir,
        detector_config(args),
        stride=args.stride,
        truth=args.truth,
        progress=not args.quiet,
    )
    if not report["files"]:
        raise RuntimeError(
            f"nothing checked: no readable anonymized image or video in {args.out_dir}"
            + (f" ({len(report['problems'])} could not be read)" if report["problems"] else "")
        )
    rows = [e for e in report["per_file"] if any(e["residual"].values())]
    if rows:
        print(f"{'file':<48} {'faces':>6} {'plates':>6}")
        for e in rows:
            print(f"{e['file']:<48} {e['residual']['face']:>6} {e['residual']['plate']:>6}")
    for label, found in report["residual"].items():
        replaced = report["replaced"][label]
        rate = report["residual_rate"][label]
        rate_text = "n/a (no review files)" if rate is None else f"{100 * rate:.1f}%"
        print(
            f"{label}s: {found} still found ({report['residual_inside_replaced'][label]} inside "
            f"replaced regions); {replaced} replaced by the run (images, and the first frame of "
            f"each video), residual rate {rate_text}"
        )
    for label, st in report.get("truth", {}).items():
        if st["true"]:
            print(
                f"truth: {st['covered']} of {st['true']} {label}s replaced "
                f"({100 * st['recall']:.1f}%); {st['false']} of the {st['replaced']} replaced "
                f"boxes over all frames lie off any true {label}"
            )
    print(
        f"files: {report['files']} checked, {report['files_with_residual']} with residual detections"
    )
    for problem in report["problems"]:
        log.warning("could not check %s: %s", problem["file"], problem["reason"])
    log.info("Results saved to %s/%s/verify.json", args.out_dir, REPORT_DIR)
    residual = sum(report["residual"].values())
    return 1 if args.fail_on_residual and residual else 0
