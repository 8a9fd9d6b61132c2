"""``anonymize``: one command with subcommands; each subcommand module has add_parser() and run()."""

from anonymizer import __version__
from anonymizer.cli import apply_review, bench, evaluate, run, synth, verify
from app_toolkit.cli import make_main

__all__ = ["main"]

main = make_main(
    "anonymize",
    "Privacy for driving datasets: find faces and licence plates in images and videos and "
    "replace them by inpainting, with review files to correct the results.",
    __version__,
    (run, apply_review, verify, evaluate, bench, synth),
    env_packages=(
        "opencv-python",
        "facenet-pytorch",
        "diffusers",
        "transformers",
        "ultralytics",
        "accelerate",
    ),
)
