"""``traffic-signs``: one command with subcommands; each subcommand module has add_parser() and
run()."""

from app_toolkit.cli import make_main
from traffic_signs import __version__
from traffic_signs.cli import audit, detect, missing, synth, train

__all__ = ["main"]

main = make_main(
    "traffic-signs",
    "Road-sign audits: detect the signs in images and videos (YOLO) and, where the road's "
    "context calls for a warning sign that is not there, raise a missing-sign alert.",
    __version__,
    (audit, detect, missing, train, synth),
    env_packages=("ultralytics", "opencv-python", "safetensors"),
)
