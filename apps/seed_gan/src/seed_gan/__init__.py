"""Seed purity grading with a class-conditional GAN for rare defect classes.

The public names below are imported on first use, so that ``import seed_gan`` (and the command
line's ``--help``) does not load torch.
"""

from app_toolkit.lazy import lazy_names

__version__ = "0.1.0"

_WHERE = {
    "Generator": "seed_gan.gan",
    "SeedClassifier": "seed_gan.classifier",
    "grade_lot": "seed_gan.grade",
    "load_classifier": "seed_gan.classifier",
    "load_generator": "seed_gan.gan",
    "train_gan": "seed_gan.gan",
}

__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_names(__name__, _WHERE)

