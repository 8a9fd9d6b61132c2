"""``traffic-signs`` command line. The subcommands listed in the help are not built yet."""

from __future__ import annotations

import argparse
import sys

from traffic_signs import __version__

PLANNED = """\
planned subcommands (not available yet):
    detect   YOLO sign detection on images, folders and videos
    missing  scene-context classifier for missing signs
    audit    detections plus missing-sign alerts, with a report
    synth    procedural road scenes for training and tests
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="traffic-signs",
        description="Traffic-sign detection (YOLO) and missing-sign categorisation from scene context.",
        epilog=PLANNED,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"traffic-signs {__version__}")
    parser.parse_args(argv)
    parser.print_help(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
