"""Seed purity grading with a class-conditional GAN for rare defect classes.

The public names below are imported on first use, so that ``import seed_gan`` (and the command
line's ``--help``) does not load torch.
"""

import importlib

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


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'seed_gan' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_WHERE])
