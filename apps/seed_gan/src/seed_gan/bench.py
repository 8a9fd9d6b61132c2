"""Does GAN augmentation help the rare classes? The same classifier, trained for the same number of
steps on the real images (plain, with a class-weighted loss, or with classic augmentation), the
real images plus generated ones for the rare classes (filtered by a classifier trained on the
real images only; also with a class-weighted loss), and generated images only, each tested on
the same real test split; medians and spreads over several seeds. With ``rare_count`` only that
many real images of each rare class are kept: a lab with a few dozen examples of a defect (the
GAN must then have been trained on the same reduced set: ``gan train --rare-count``)."""

from __future__ import annotations

import os
import statistics
import time

import torch

from seed_gan.augment import augment_with_gan
from seed_gan.classifier import SeedClassifier, evaluate, train_classifier
from seed_gan.data import SeedImages
from seed_gan.gan import generate
from seed_gan.options import RECIPES

__all__ = ["RECIPES", "bench", "format_bench"]


def bench(
    data: str | os.PathLike,
    generator,
    *,
    arch: str = "shufflenet_v2_x0_5",
    steps: int = 600,
    batch_size: int = 64,
    lr: float = 3e-3,
    seeds: int = 3,
    augment: int | None = None,
    recipes: tuple[str, ...] = tuple(RECIPES),
    rare_count: int | None = None,
    min_confidence: float = 0.9,
    device: str = "cpu",
    progress: bool = True,
) -> dict:
    """Train and test each recipe with seeds 0..``seeds``-1. ``augment`` generated images are added
    in ``augmented`` (default: as many as level the classes); ``gan-only`` trains on as many
    generated images as the train split has real ones, in equal numbers per class. The
    generated images of the ``augmented`` recipes are kept when the ``real`` recipe's model of the
    same seed gives them their class with at least ``min_confidence``."""
    bad = [r for r in recipes if r not in RECIPES]
    if bad:
        raise ValueError(f"unknown recipes {bad}; known: {', '.join(RECIPES)}")
    if not 0 <= min_confidence <= 1:
        raise ValueError(f"--min-confidence must be in [0, 1], got {min_confidence}")
    train = SeedImages(data, "train", generator.size)
    rare = train.rare_classes() or sorted(train.classes, key=lambda c: train.class_counts()[c])[:1]
    if rare_count is not None:
        train = train.keep_rare(rare_count)
    test = SeedImages(data, "test", generator.size, classes=train.classes)
    counts = list(train.class_counts().values())
    if augment is None:
        augment = sum(max(counts) - c for c in counts)
    class_weights = torch.tensor(counts, dtype=torch.float)
    class_weights = class_weights.sum() / (len(counts) * class_weights)
    per_class = len(train) // len(train.classes)
    fake_only = generate(
        generator, {generator.classes.index(c): per_class for c in train.classes}, seed=1
    )
    to_train = torch.tensor([train.classes.index(c) for c in generator.classes])
    fake_only = torch.utils.data.TensorDataset(fake_only[0], to_train[fake_only[1]])

    real_models: dict[int, SeedClassifier] = {}

    def fit(dataset, seed, weights=None, augmentation="basic"):
        model = SeedClassifier(train.classes, arch, generator.size)
        model, _ = train_classifier(
            model, dataset, steps=steps, batch_size=batch_size, lr=lr, seed=seed, device=device,
            class_weights=weights, augmentation=augmentation, progress=progress,
        )  # fmt: skip
        return model

    rows = []
    for recipe in recipes:
        runs = []
        for seed in range(seeds):
            dataset, acceptance = train, None
            start = time.perf_counter()
            if recipe in ("augmented", "augmented-weighted"):
                if seed not in real_models:
                    real_models[seed] = fit(train, seed)
                dataset, _, acceptance = augment_with_gan(
                    train, generator, augment, 100 + seed, real_models[seed], min_confidence
                )
            elif recipe == "gan-only":
                dataset = fake_only
            weighted = recipe in ("weighted", "augmented-weighted")
            augmentation = "classic" if recipe == "classic" else "basic"
            model = fit(dataset, seed, class_weights if weighted else None, augmentation)
            if recipe == "real":
                real_models[seed] = model
            seconds = time.perf_counter() - start
            result = evaluate(model, test, train.classes)
            runs.append({"seed": seed, "seconds": seconds, "acceptance": acceptance,
                         "train_images": len(dataset), **result})  # fmt: skip
        accepted = [r["acceptance"] for r in runs if r["acceptance"] is not None]
        rows.append(
            {
                "recipe": recipe,
                "train_images": statistics.median(r["train_images"] for r in runs),
                "accuracy": statistics.median(r["accuracy"] for r in runs),
                "macro_f1": statistics.median(r["macro_f1"] for r in runs),
                "macro_f1_spread": _spread([r["macro_f1"] for r in runs]),
                "recall": {
                    c: statistics.median(r["per_class"][c]["recall"] for r in runs)
                    for c in train.classes
                },
                "recall_spread": {
                    c: _spread([r["per_class"][c]["recall"] for r in runs]) for c in train.classes
                },
                "acceptance": statistics.median(accepted) if accepted else None,
                "seconds": statistics.median(r["seconds"] for r in runs),
                "runs": runs,
            }
        )
    return {
        "data": str(data),
        "rare_count": rare_count,
        "min_confidence": min_confidence,
        "train_counts": train.class_counts(),
        "test_counts": test.class_counts(),
        "rare_classes": rare,
        "arch": arch,
        "size": generator.size,
        "steps": steps,
        "batch_size": batch_size,
        "seeds": seeds,
        "generated_for_augmentation": augment,
        "threads": torch.get_num_threads(),
        "rows": rows,
    }


def _spread(values: list[float]) -> float:
    """Max − min over the seeds."""
    return float(max(values) - min(values))


def format_bench(result: dict) -> str:
    """A Markdown table of the medians, each with its spread (max − min) over the seeds."""
    rare = result["rare_classes"]
    head = ["recipe", "train images", "accuracy", "macro-F1",
            *[f"recall {c}" for c in rare], "filter acceptance"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for row in result["rows"]:
        spread = row.get("recall_spread", {})
        cells = [
            f"{row['recipe']}: {RECIPES[row['recipe']]}",
            f"{row['train_images']:.0f}",
            f"{row['accuracy']:.3f}",
            f"{row['macro_f1']:.3f} ± {row.get('macro_f1_spread', 0) / 2:.3f}",
            *[f"{row['recall'][c]:.3f} ± {spread.get(c, 0) / 2:.3f}" for c in rare],
            "" if row.get("acceptance") is None else f"{row['acceptance']:.0%}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
