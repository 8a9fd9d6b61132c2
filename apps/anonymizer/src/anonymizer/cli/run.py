"""``anonymize run``: anonymize images, folders, globs and videos."""

from __future__ import annotations

import argparse
import logging

from anonymizer.cli.common import COMMON, DETECTION, REPLACEMENT, SD, anonymizer_config
from anonymizer.config import REPORT_DIR

log = logging.getLogger("anonymizer")

EPILOG = """\
outputs:
  OUT/<same relative path>            the anonymized image or video (same format, fps and size)
  OUT/_anonymize/reviews/<path>.json  what was replaced: edit it, then `anonymize apply-review`
  OUT/_anonymize/previews/<path>.jpg  with --preview: the output with every box drawn
  OUT/_anonymize/report.json          settings, counts, and every skipped or failed file

Rerunning skips inputs whose output exists (--overwrite redoes them). For many GPUs or machines:
  accelerate launch -m anonymizer run DATA --out OUT
splits the files between the processes.

examples:
  anonymize run frames/ --out anon/ --preview
  anonymize run "drive/**/*.jpg" clip.mp4 --out anon/ --method blur
  anonymize run frames/ --out anon/ --method sd-inpaint --sd-model ~/models/sd-inpainting
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "run",
        parents=[COMMON, DETECTION, REPLACEMENT, SD],
        help="anonymize images, folders and videos",
        description="Find faces and licence plates in images, folders (recursive, structure "
        "mirrored), globs and videos (frame by frame) and replace them. Inputs are never "
        "modified; outputs are written atomically; unreadable files are skipped and listed.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image, video, folder or glob")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--preview", action="store_true", help="also write previews with the boxes drawn"
    )
    parser.add_argument("--overwrite", action="store_true", help="redo inputs already done")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes on this machine, each with its own models (default: %(default)s)",
    )
    parser.add_argument(
        "--persist",
        type=int,
        default=2,
        help="videos: a box found in a frame is also replaced in this many frames before and "
        "after it, covering frames where the detector missed (default: %(default)s)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = anonymizer_config(args, persist=args.persist)
    if config.method == "cv-inpaint" and not args.quiet:
        log.info(
            "Replacing with OpenCV inpainting; for natural-looking faces and plates use "
            "--method sd-inpaint --sd-model DIR (a local Stable Diffusion inpainting folder)."
        )
    from anonymizer.pipeline import anonymize_files

    report = anonymize_files(
        args.inputs,
        args.out,
        config,
        preview=args.preview,
        overwrite=args.overwrite,
        workers=args.workers,
        progress=not args.quiet,
    )
    from anonymizer.pipeline import process_state

    state = process_state(config)
    main_process = state.is_main_process
    # Under `accelerate launch` on CPU, gloo's threads still running at interpreter exit abort
    # the process ("terminate called without an active exception"): close the group first.
    state.destroy_process_group()
    if not main_process:  # one summary, not one per process
        return 0
    status = report["status"]
    log.info(
        "%d files: %d anonymized, %d already done, %d skipped, %d failed; replaced %d faces "
        "and %d plates in %.1f s",
        report["files"],
        status.get("done", 0),
        status.get("exists", 0),
        status.get("skipped", 0),
        status.get("failed", 0),
        report["detections"]["face"],
        report["detections"]["plate"],
        report["seconds"],
    )
    for problem in report["problems"]:
        log.warning("skipped %s: %s", problem["input"], problem["reason"])
    log.info("Results saved to %s (report: %s/%s/report.json)", args.out, args.out, REPORT_DIR)
    return 0 if status.get("done", 0) + status.get("exists", 0) else 1
