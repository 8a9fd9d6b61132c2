"""The purity classifier: a torchvision CNN trained from scratch or from local weights, its training
loop under ``accelerate``, and its evaluation (accuracy, per-class precision/recall/F1, macro-F1)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

__all__ = ["ARCHITECTURES", "build_classifier", "evaluate", "train_classifier"]

ARCHITECTURES = ("resnet18", "resnet34", "mobilenet_v3_small", "efficientnet_b0")


def build_classifier(
    num_classes: int, arch: str = "resnet18", init_weights: str | os.PathLike | None = None
) -> nn.Module:
    """A torchvision ``arch`` with a ``num_classes`` head. ``init_weights`` is a local state dict
    (``.safetensors``, or a ``.pt``/``.pth`` tensor file read with ``weights_only``) of the same
    architecture, e.g. ImageNet weights downloaded elsewhere; its classifier head is replaced."""
    import torchvision

    if arch not in ARCHITECTURES:
        raise ValueError(f"arch must be one of {ARCHITECTURES}, got {arch!r}")
    model = getattr(torchvision.models, arch)(weights=None)
    if init_weights is not None:
        path = Path(init_weights)
        if not path.is_file():
            raise ValueError(f"--init-weights: no such file: {path}")
        try:
            if path.suffix == ".safetensors":
                from safetensors.torch import load_file

                state = load_file(path)
            else:
                state = torch.load(path, map_location="cpu", weights_only=True)
            own = model.state_dict()
            # the head is replaced below, so a head of another size is fine
            head = ("fc.", "classifier.")
            state = {
                k: v
                for k, v in state.items()
                if not (k.startswith(head) and k in own and own[k].shape != v.shape)
            }
            missing, unexpected = model.load_state_dict(state, strict=False)
            missing = [k for k in missing if not k.startswith(head)]
        except Exception as err:  # safetensors, pickle-free torch.load and shape errors differ
            raise ValueError(
                f"--init-weights {path}: not {arch} weights ({err})".splitlines()[0]
            ) from None
        if missing or unexpected:
            raise ValueError(f"--init-weights {path}: not {arch} weights ({len(missing)} missing)")
    if hasattr(model, "fc"):
        model.fc = nn.Linear(model.fc.in_features, num_classes)
    else:
        last = model.classifier[-1]
        model.classifier[-1] = nn.Linear(last.in_features, num_classes)
    return model


def train_classifier(
    model: nn.Module,
    dataset: torch.utils.data.Dataset,
    *,
    epochs: int = 10,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    device: str = "cpu",
    class_weights: torch.Tensor | None = None,
    progress: bool = True,
) -> tuple[nn.Module, list[float]]:
    """Adam with cosine decay and cross-entropy (optionally class-weighted), random flips and
    90° rotations (seeds have no up or left); returns the model on the CPU and the loss per epoch."""
    from accelerate import Accelerator
    from tqdm.auto import tqdm

    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch size must be >= 1, got {epochs} and {batch_size}")
    torch.manual_seed(seed)
    accelerator = Accelerator(cpu=device == "cpu")
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        drop_last=len(dataset) > batch_size,
        generator=torch.Generator().manual_seed(seed),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs * len(loader))
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    loss_fn = nn.CrossEntropyLoss(
        weight=None if class_weights is None else class_weights.to(accelerator.device)
    )
    losses = []
    model.train()
    for _ in tqdm(
        range(epochs),
        desc="classifier",
        unit="epoch",
        disable=not (progress and accelerator.is_main_process),
    ):
        total, count = 0.0, 0
        for images, labels in loader:
            images = _augment(images)
            loss = loss_fn(model(images), labels)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
            total += loss.item() * len(labels)
            count += len(labels)
        losses.append(total / count)
    return accelerator.unwrap_model(model).cpu().eval(), losses


def _augment(images: torch.Tensor) -> torch.Tensor:
    if torch.rand(()) < 0.5:
        images = images.flip(-1)
    return torch.rot90(images, int(torch.randint(0, 4, ())), dims=(-2, -1))


@torch.inference_mode()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """Class probabilities ``[N, classes]`` for images ``[N, 3, H, W]`` in [-1, 1]."""
    model.eval()
    out = [
        torch.softmax(model(images[i : i + batch_size]), 1)
        for i in range(0, len(images), batch_size)
    ]
    return torch.cat(out).numpy()


def evaluate(model: nn.Module, dataset, classes: list[str]) -> dict:
    """Accuracy, per-class precision/recall/F1, macro-F1 and the confusion matrix on ``dataset``."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    images = torch.stack([dataset[i][0] for i in range(len(dataset))])
    truth = np.array([int(dataset[i][1]) for i in range(len(dataset))])
    pred = predict(model, images).argmax(1)
    labels = list(range(len(classes)))
    p, r, f, n = precision_recall_fscore_support(truth, pred, labels=labels, zero_division=0)
    return {
        "accuracy": float((pred == truth).mean()),
        "macro_f1": float(f.mean()),
        "per_class": {
            c: {
                "precision": float(p[i]),
                "recall": float(r[i]),
                "f1": float(f[i]),
                "support": int(n[i]),
            }
            for i, c in enumerate(classes)
        },
        "confusion": confusion_matrix(truth, pred, labels=labels).tolist(),
        "classes": list(classes),
    }
