"""``traffic-signs audit``: signs found and missing-sign alerts, with a report."""

from __future__ import annotations

import argparse
import logging

from traffic_signs.cli.common import COMMON, DEVICE

log = logging.getLogger("traffic_signs")

EPILOG = """\
outputs in DIR:
  report.json   every frame: detections, context probabilities, alert; events (video time ranges)
  alerts.csv    file, frame, time, missing sign, confidence     alerts.png  alerts per category
  report.html   the alerts with their annotated frames (in _audit/)

examples:
  traffic-signs audit drive.mp4 --out audit/ --stride 5
  traffic-signs audit photos/ --out audit/ --weights my_detector/ --context-weights my_context/
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "audit",
        parents=[COMMON, DEVICE],
        help="signs found and missing-sign alerts, with a report",
        description="For each image or video frame: detect the signs, score which warning sign "
        "the road's context calls for, and raise a missing-sign alert when that sign category "
        "reaches --alert-threshold and no such sign was detected.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("sources", nargs="+", metavar="SRC", help="images, videos or folders")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument("--weights", default="default", help="detector (default: shipped)")
    parser.add_argument(
        "--context-weights", default="default", help="context classifier (default: shipped)"
    )
    parser.add_argument("--conf", type=float, default=0.25, help="detector threshold (0.25)")
    parser.add_argument(
        "--alert-threshold", type=float, default=0.5, help="context probability to alert (0.5)"
    )
    parser.add_argument("--stride", type=int, default=1, help="every n-th video frame (1)")
    parser.add_argument("--no-images", action="store_true", help="no annotated alert frames")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app_toolkit.devices import resolve_device
    from traffic_signs.audit import AuditConfig, audit
    from traffic_signs.context import load_context
    from traffic_signs.detector import load_detector

    config = AuditConfig(
        conf=args.conf,
        alert_threshold=args.alert_threshold,
        stride=args.stride,
        device=str(resolve_device(args.device)),
        save_frames=not args.no_images,
    )
    if not 0 < args.conf < 1:
        raise ValueError(f"--conf must be in (0, 1), got {args.conf}")
    detector, context = load_detector(args.weights), load_context(args.context_weights)
    report = audit(args.sources, args.out, detector, context, config)
    print(
        f"{report['frames']} frames, {len(report['alerts'])} with a missing-sign alert "
        f"({len(report['events'])} events), {report['frames_per_second']:.1f} frames/s"
    )
    for e in report["events"][:20]:
        when = "" if e["start"] is None else f" at {e['start']:.1f}-{e['end']:.1f} s"
        print(f"  {e['file']}{when}: missing {e['category']} ({e['confidence']:.2f})")
    if report["skipped"]:
        print(f"{len(report['skipped'])} files skipped (listed in report.json)")
    log.info("Results saved to %s", args.out)
    return 0
