"""``traffic-signs detect``: YOLO sign detection on images, folders and videos."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from app_toolkit.files import write_csv, write_json
from traffic_signs.cli.common import COMMON, DEVICE

log = logging.getLogger("traffic_signs")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "detect",
        parents=[COMMON, DEVICE],
        help="detect signs in images, folders and videos",
        description="Detect signs frame by frame; write annotated images (one per image, one per "
        "--stride-th frame of a video), detections.json and detections.csv. Unreadable files are "
        "reported and skipped.",
        epilog="example:\n  traffic-signs detect dashcam/ --out detections/ --conf 0.3",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("sources", nargs="+", metavar="SRC", help="images, videos or folders")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--weights",
        default="default",
        help="detector: default (shipped, synthetic scenes), a saved folder, an ultralytics .pt "
        "(a pickle: only files you trust) or a model YAML (default: %(default)s)",
    )
    parser.add_argument("--conf", type=float, default=0.25, help="(default: %(default)s)")
    parser.add_argument(
        "--imgsz", type=int, help="network input size (default: the detector's training size)"
    )
    parser.add_argument(
        "--stride", type=int, default=1, help="every n-th video frame (default: %(default)s)"
    )
    parser.add_argument("--no-images", action="store_true", help="write no annotated images")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app_toolkit.devices import resolve_device
    from app_toolkit.files import check_output_dir
    from app_toolkit.media import MediaError, discover, write_image
    from traffic_signs.audit import iter_media_frames
    from traffic_signs.audit import seconds as _seconds
    from traffic_signs.detector import detect_frames, draw_detections, load_detector

    if args.stride < 1:
        raise ValueError(f"--stride must be >= 1, got {args.stride}")
    out = Path(args.out)
    device = str(resolve_device(args.device))
    model = load_detector(args.weights)
    check_output_dir(out, args.sources)
    items = discover(args.sources)
    records, skipped = [], []
    for item in items:
        if item.kind == "other":
            skipped.append(f"{item.path}: not an image or video")
            continue
        try:
            for index, t, frame in iter_media_frames(item, args.stride):
                found = detect_frames(model, [frame], args.conf, device, args.imgsz)[0]
                records.append(
                    {"file": str(item.rel), "frame": index, "time": t, "detections": found}
                )
                if not args.no_images:
                    name = item.rel.with_suffix(".png")
                    if item.kind == "video":
                        name = item.rel.with_suffix("") / f"frame_{index:06d}.png"
                    write_image(out / name, draw_detections(frame, found))
        except MediaError as err:
            skipped.append(f"{item.path}: {err}")
            log.warning("skipped %s: %s", item.path, err)
    if not records:
        raise RuntimeError(
            f"none of the {len(items)} inputs could be read ({len(skipped)} skipped, listed above)"
        )
    write_json(out / "detections.json", {"frames": records, "skipped": skipped})
    rows = (
        [r["file"], r["frame"], _seconds(r["time"]), d["class"], d["confidence"], *d["box"]]
        for r in records
        for d in r["detections"]
    )
    header = ["file", "frame", "time_s", "class", "confidence", "x0", "y0", "x1", "y1"]
    write_csv(out / "detections.csv", header, rows)
    total = sum(len(r["detections"]) for r in records)
    print(
        f"{total} signs in {len(records)} frames"
        + (f"; {len(skipped)} files skipped (see detections.json)" if skipped else "")
    )
    log.info("Results saved to %s", out)
    return 0
