"""``art-restore``: one command with subcommands; each subcommand module has add_parser() and run()."""

from app_toolkit.cli import make_main
from art_restore import __version__
from art_restore.cli import degrade, evaluate, restore, train

__all__ = ["main"]

main = make_main(
    "art-restore",
    "Restoration of photographed artworks: one diffusion model (Affine-StableSR at scale "
    "1) for blur, noise, fading, dullness, pixelation, rain, water damage, scratches and "
    "cracks at once.",
    __version__,
    (restore, degrade, train, evaluate),
    env_packages=("affine-sr", "diffusers", "accelerate", "opencv-python"),
    log_packages=("affine_sr", "core_flows"),
)
