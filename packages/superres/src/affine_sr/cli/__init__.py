"""``affine-sr``: one command with subcommands; each subcommand module has add_parser() and run().

The parsers are built from light modules only (choices and defaults from
:mod:`affine_sr.constants`); torch and the model code are imported inside each ``run``, so that
``--help`` and ``--version`` start fast and a subcommand loads only what it uses.
"""

from affine_sr import __version__
from affine_sr.cli import evaluate, train, upscale
from app_toolkit.cli import make_main

__all__ = ["main"]

main = make_main(
    "affine-sr",
    "Affine-StableSR: diffusion super-resolution with a compact affine-coupling "
    "autoencoder (an invertible flow in place of Stable Diffusion's VAE), a diffusion "
    "prior steered by the low-resolution image, tiled for any image size.",
    __version__,
    (upscale, train, evaluate),
    env_packages=("diffusers", "accelerate", "safetensors", "scikit-image", "opencv-python"),
    log_packages=("core_flows",),
)
