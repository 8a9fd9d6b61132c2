"""Adding generated images of rare classes to a training set."""

from __future__ import annotations

import numpy as np
import torch

from seed_gan.gan import Generator, generate

__all__ = ["augment_with_gan", "rare_class_quota"]


def rare_class_quota(counts: list[int], total: int) -> list[int]:
    """How many generated images each class gets out of ``total``: the rarest classes are filled
    first, level by level, so that the class counts become as even as possible (classes as large as
    the largest get none until all are level)."""
    if total < 0:
        raise ValueError(f"the number of generated images must be >= 0, got {total}")
    have = np.array(counts, dtype=np.int64)
    quota = np.zeros_like(have)
    for _ in range(total):  # one at a time to the currently smallest class: simple and exact
        quota[np.argmin(have + quota)] += 1
    return quota.tolist()


def augment_with_gan(
    dataset, generator: Generator, total: int, seed: int = 0
) -> tuple[torch.utils.data.Dataset, dict[str, int]]:
    """``dataset`` (a :class:`~seed_gan.data.SeedImages`) plus ``total`` generated images given to
    its rarest classes by :func:`rare_class_quota`; returns the joined dataset and the number
    generated per class. Generated images are resized to the dataset's image size if needed."""
    missing = [c for c in dataset.classes if c not in generator.classes]
    if missing:
        raise ValueError(
            f"the generator knows the classes {generator.classes}, not {missing}: train it on "
            "the same class folders"
        )
    quota = rare_class_quota(list(dataset.class_counts().values()), total)
    counts = {generator.classes.index(c): n for c, n in zip(dataset.classes, quota)}
    images, labels = generate(generator, counts, seed=seed)
    if images.shape[-1] != dataset.size:
        images = torch.nn.functional.interpolate(
            images, size=(dataset.size, dataset.size), mode="bilinear", antialias=True
        ).clamp(-1, 1)
    # generator indices -> dataset indices, and the same 8-bit quantisation as a real photograph
    to_dataset = torch.tensor([dataset.classes.index(c) for c in generator.classes])
    images = torch.round((images + 1) * 127.5) / 127.5 - 1
    extra = torch.utils.data.TensorDataset(images, to_dataset[labels])
    return torch.utils.data.ConcatDataset([dataset, extra]), dict(zip(dataset.classes, quota))
