"""Does GAN augmentation help the rare classes? The same classifier, trained for the same number of
steps on (a) the real images, (b) the real images with a class-weighted loss, (c) the real images
plus generated ones for the rare classes, and (d) generated images only, each tested on the same
real test split; medians over several seeds."""

from __future__ import annotations

import os
import statistics
import time

import torch

from seed_gan.augment import augment_with_gan
from seed_gan.classifier import SeedClassifier, evaluate, train_classifier
from seed_gan.data import SeedImages
from seed_gan.gan import generate

__all__ = ["RECIPES", "bench", "format_bench"]

# recipe id -> what it trains on
RECIPES = {
    "real": "real images",
    "weighted": "real images, class-weighted loss",
    "augmented": "real + generated images for rare classes",
    "gan-only": "generated images only",
}


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
    device: str = "cpu",
    progress: bool = True,
) -> dict:
    """Train and test each recipe with seeds 0..``seeds``-1. ``augment`` generated images are added
    in ``augmented`` (default: as many as level the classes); ``gan-only`` trains on as many
    generated images as the train split has real ones, in equal numbers per class."""
    bad = [r for r in recipes if r not in RECIPES]
    if bad:
        raise ValueError(f"unknown recipes {bad}; known: {', '.join(RECIPES)}")
    train = SeedImages(data, "train", generator.size)
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

    rows = []
    for recipe in recipes:
        runs = []
        for seed in range(seeds):
            dataset, weights = train, None
            if recipe == "weighted":
                weights = class_weights
            elif recipe == "augmented":
                dataset, _ = augment_with_gan(train, generator, augment, seed=100 + seed)
            elif recipe == "gan-only":
                dataset = fake_only
            model = SeedClassifier(train.classes, arch, generator.size)
            start = time.perf_counter()
            model, _ = train_classifier(
                model,
                dataset,
                steps=steps,
                batch_size=batch_size,
                lr=lr,
                seed=seed,
                device=device,
                class_weights=weights,
                progress=progress,
            )
            seconds = time.perf_counter() - start
            result = evaluate(model, test, train.classes)
            runs.append({"seed": seed, "seconds": seconds, **result})
        rows.append(
            {
                "recipe": recipe,
                "train_images": len(dataset),
                "accuracy": statistics.median(r["accuracy"] for r in runs),
                "macro_f1": statistics.median(r["macro_f1"] for r in runs),
                "recall": {
                    c: statistics.median(r["per_class"][c]["recall"] for r in runs)
                    for c in train.classes
                },
                "seconds": statistics.median(r["seconds"] for r in runs),
                "runs": runs,
            }
        )
    rare = sorted(train.classes, key=lambda c: train.class_counts()[c])[:2]
    return {
        "data": str(data),
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


def format_bench(result: dict) -> str:
    """A Markdown table of the medians."""
    rare = result["rare_classes"]
    head = ["recipe", "train images", "accuracy", "macro-F1", *[f"recall {c}" for c in rare]]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for row in result["rows"]:
        cells = [
            f"{row['recipe']}: {RECIPES[row['recipe']]}",
            str(row["train_images"]),
            f"{row['accuracy']:.3f}",
            f"{row['macro_f1']:.3f}",
            *[f"{row['recall'][c]:.3f}" for c in rare],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
