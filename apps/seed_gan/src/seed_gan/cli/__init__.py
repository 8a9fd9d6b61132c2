"""``seed-gan``: one command with subcommands; each subcommand module has add_parser() and run()."""

from app_toolkit.cli import make_main
from seed_gan import __version__
from seed_gan.cli import bench, classify, gan, grade, select, synth

__all__ = ["main"]

main = make_main(
    "seed-gan",
    "Seed purity grading: a CNN grades every kernel of a lot (pure, broken, discoloured, "
    "silkcut), a class-conditional GAN generates rare defects for training, and batch "
    "active learning picks which images experts should label.",
    __version__,
    (grade, classify, gan, select, synth, bench),
    env_packages=("torchvision", "accelerate", "scikit-learn", "opencv-python"),
)
