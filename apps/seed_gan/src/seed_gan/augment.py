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
    dataset,
    generator: Generator,
    total: int,
    seed: int = 0,
    judge=None,
    min_confidence: float = 0.9,
    rounds: int = 8,
) -> tuple[torch.utils.data.Dataset, dict[str, int], float | None]:
    """``dataset`` (a :class:`~seed_gan.data.SeedImages`) plus ``total`` generated images given to
    its rarest classes by :func:`rare_class_quota`; returns the joined dataset, the number
    generated per class and the filter's acceptance rate (``None`` without a ``judge``).

    ``judge``, a classifier trained on real images only, filters the generated images: one is
    kept when it gives the intended class a probability of at least ``min_confidence``, so a
    generator that draws a rare class badly adds fewer images rather than wrong ones. Images are
    drawn in up to ``rounds`` batches until every class's quota is filled. Generated images are
    resized to the dataset's image size if needed and quantised to 8 bits like photographs."""
    from seed_gan.classifier import predict

    missing = [c for c in dataset.classes if c not in generator.classes]
    if missing:
        raise ValueError(
            f"the generator knows the classes {generator.classes}, not {missing}: train it on "
            "the same class folders"
        )
    if not 0 <= min_confidence <= 1:
        raise ValueError(f"min confidence must be in [0, 1], got {min_confidence}")
    quota = dict(
        zip(dataset.classes, rare_class_quota(list(dataset.class_counts().values()), total))
    )
    to_dataset = torch.tensor([dataset.classes.index(c) for c in generator.classes])
    kept_images, kept_labels, drawn, accepted = [], [], 0, 0
    for round_ in range(rounds if judge is not None else 1):
        want = {generator.classes.index(c): n for c, n in quota.items() if n > 0}
        if not want:
            break
        images, labels = generate(generator, want, seed=seed + 1000 * round_)
        if images.shape[-1] != dataset.size:
            images = torch.nn.functional.interpolate(
                images, size=(dataset.size, dataset.size), mode="bilinear", antialias=True
            ).clamp(-1, 1)
        images = torch.round((images + 1) * 127.5) / 127.5 - 1
        labels = to_dataset[labels]  # generator indices -> dataset indices
        keep = torch.ones(len(labels), dtype=torch.bool)
        if judge is not None:
            probs = torch.from_numpy(predict(judge, images))
            keep = probs[torch.arange(len(labels)), labels] >= min_confidence
        drawn, accepted = drawn + len(labels), accepted + int(keep.sum())
        kept_images.append(images[keep])
        kept_labels.append(labels[keep])
        for index in labels[keep].tolist():
            quota[dataset.classes[index]] -= 1
    images = (
        torch.cat(kept_images) if kept_images else torch.zeros(0, 3, dataset.size, dataset.size)
    )
    labels = torch.cat(kept_labels) if kept_labels else torch.zeros(0, dtype=torch.long)
    extra = torch.utils.data.TensorDataset(images, labels)
    generated = {c: int((labels == i).sum()) for i, c in enumerate(dataset.classes)}
    acceptance = accepted / drawn if judge is not None and drawn else None
    return torch.utils.data.ConcatDataset([dataset, extra]), generated, acceptance
