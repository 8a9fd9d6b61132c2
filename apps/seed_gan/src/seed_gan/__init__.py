"""Seed purity grading with a class-conditional GAN for rare defect classes."""

__version__ = "0.1.0"

from seed_gan.classifier import SeedClassifier, load_classifier  # noqa: E402
from seed_gan.gan import Generator, load_generator, train_gan  # noqa: E402
from seed_gan.grade import grade_lot  # noqa: E402

__all__ = [
    "Generator",
    "SeedClassifier",
    "grade_lot",
    "load_classifier",
    "load_generator",
    "train_gan",
]
