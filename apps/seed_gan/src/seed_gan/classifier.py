"""The purity classifier: a torchvision CNN trained from scratch or from local weights, its training
loop under ``accelerate``, and its evaluation (accuracy, per-class precision/recall/F1, macro-F1)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from app_toolkit.checkpoint import PretrainedMixin, register_to_config
from seed_gan.options import ARCHITECTURES

__all__ = [
    "ARCHITECTURES",
    "AUGMENTATIONS",
    "SeedClassifier",
    "build_classifier",
    "evaluate",
    "load_classifier",
    "predict",
    "predict_logits",
    "shipped_model",
    "train_classifier",
]


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


class SeedClassifier(PretrainedMixin, nn.Module):
    """A :func:`build_classifier` network that knows its class names and input size, saved and
    loaded with ``save_pretrained``/``from_pretrained``. Inputs are ``[B, 3, size, size]`` in
    [-1, 1]; outputs are logits. ``features(x)`` gives the penultimate activations."""

    @register_to_config
    def __init__(self, classes: list[str], arch: str = "resnet18", size: int = 64):
        super().__init__()
        if len(classes) < 2 or len(set(classes)) != len(classes):
            raise ValueError(f"need at least 2 distinct class names, got {classes}")
        if size < 16:
            raise ValueError(f"image size must be at least 16, got {size}")
        self.classes, self.arch, self.size = list(classes), arch, size
        self.net = build_classifier(len(classes), arch)

    def load_backbone(self, init_weights: str | os.PathLike) -> SeedClassifier:
        """Start from local weights of the same architecture (the head stays new)."""
        self.net = build_classifier(len(self.classes), self.arch, init_weights)
        return self

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)

    @property
    def head(self) -> nn.Linear:
        return self.net.fc if hasattr(self.net, "fc") else self.net.classifier[-1]

    def features(self, x: Tensor) -> Tensor:
        """The input of the classification head ``[B, D]``."""
        captured = []
        handle = self.head.register_forward_hook(lambda m, inputs, out: captured.append(inputs[0]))
        try:
            self.net(x)
        finally:
            handle.remove()
        return captured[0]


def shipped_model(name: str) -> Path:
    """Folder of a model shipped in the package: ``classifier`` or ``gan``."""
    from importlib import resources

    path = Path(str(resources.files("seed_gan") / "pretrained" / name))
    if not (path / "config.json").is_file():
        raise ValueError(f"the shipped {name} weights are missing from the installed package")
    return path


def load_classifier(
    path: str | os.PathLike, device: str = "cpu", confidence: bool = True
) -> SeedClassifier:
    """A classifier folder written by ``classify train`` (or its ``model/`` subfolder), or
    ``default``: the shipped classifier trained on synthetic kernels. With ``confidence`` its
    calibration (:mod:`seed_gan.confidence`) is loaded as ``model.confidence`` when it has one."""
    path = shipped_model("classifier") if str(path) == "default" else Path(path)
    if (path / "model" / "config.json").is_file():
        path = path / "model"
    if not (path / "config.json").is_file():
        raise ValueError(f"{path}: not a classifier folder (no config.json)")
    from seed_gan.confidence import Confidence

    model = SeedClassifier.from_pretrained(path, device=device).eval()
    # None for models saved before calibration
    model.confidence = Confidence.load(path) if confidence else None
    return model


def train_classifier(
    model: nn.Module,
    dataset: torch.utils.data.Dataset,
    *,
    epochs: int = 10,
    steps: int | None = None,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    device: str = "cpu",
    class_weights: torch.Tensor | None = None,
    augmentation: str = "basic",
    progress: bool = True,
) -> tuple[nn.Module, list[float]]:
    """Adam with cosine decay and cross-entropy (optionally class-weighted), random flips and
    90° rotations (seeds have no up or left); ``augmentation="classic"`` adds colour jitter
    (brightness, contrast, saturation ×0.8-1.2 per image) and mixup (Zhang et al. 2018, α = 0.2):
    the free alternatives to generated images. Returns the model on the CPU and the loss per epoch.
    ``steps`` fixes the number of optimiser steps instead (the training budget whatever the
    dataset's size, to compare recipes fairly); losses are then reported per pass over the data."""
    from accelerate import Accelerator
    from tqdm.auto import tqdm

    if augmentation not in AUGMENTATIONS:
        raise ValueError(f"augmentation must be one of {AUGMENTATIONS}, got {augmentation!r}")
    if epochs < 1 or batch_size < 1 or (steps is not None and steps < 1):
        raise ValueError(
            f"epochs, steps and batch size must be >= 1, got {epochs}, {steps} and {batch_size}"
        )
    torch.manual_seed(seed)
    accelerator = Accelerator(cpu=device == "cpu")
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        drop_last=len(dataset) > batch_size,
        generator=torch.Generator().manual_seed(seed),
    )
    total_steps = steps or epochs * len(loader)
    epochs = -(-total_steps // len(loader))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, total_steps)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    loss_fn = nn.CrossEntropyLoss(
        weight=None if class_weights is None else class_weights.to(accelerator.device)
    )
    losses, step = [], 0
    model.train()
    for _ in tqdm(
        range(epochs),
        desc="classifier",
        unit="epoch",
        disable=not (progress and accelerator.is_main_process),
    ):
        total, count = 0.0, 0
        for images, labels in loader:
            if step == total_steps:
                break
            step += 1
            images = _augment(images)
            if augmentation == "classic":
                images = _colour_jitter(images)
                mix = float(np.random.default_rng((seed, step)).beta(MIXUP, MIXUP))
                order = torch.randperm(len(images), generator=torch.Generator().manual_seed(step))
                order = order.to(images.device)
                logits = model(mix * images + (1 - mix) * images[order])
                loss = mix * loss_fn(logits, labels) + (1 - mix) * loss_fn(logits, labels[order])
            else:
                loss = loss_fn(model(images), labels)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
            total += loss.item() * len(labels)
            count += len(labels)
        losses.append(total / count)
    return accelerator.unwrap_model(model).cpu().eval(), losses


AUGMENTATIONS = ("basic", "classic")
MIXUP = 0.2  # mixup's Beta(α, α)


def _colour_jitter(images: torch.Tensor) -> torch.Tensor:
    """Brightness, contrast and saturation of each image scaled by 0.8-1.2 (images in [-1, 1])."""

    def factor() -> torch.Tensor:
        return torch.empty(len(images), 1, 1, 1, device=images.device).uniform_(0.8, 1.2)

    x = (images + 1) / 2 * factor()
    mean = x.mean((1, 2, 3), keepdim=True)
    x = (x - mean) * factor() + mean
    grey = x.mean(1, keepdim=True)
    x = (x - grey) * factor() + grey
    return x.clamp(0, 1) * 2 - 1


def _augment(images: torch.Tensor) -> torch.Tensor:
    if torch.rand(()) < 0.5:
        images = images.flip(-1)
    return torch.rot90(images, int(torch.randint(0, 4, ())), dims=(-2, -1))


@torch.inference_mode()
def predict(
    model: nn.Module, images: torch.Tensor, batch_size: int = 256, features: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Class probabilities ``[N, classes]`` for images ``[N, 3, H, W]`` in [-1, 1]; with
    ``features``, also the penultimate activations ``[N, D]`` of a :class:`SeedClassifier`."""
    model.eval()
    device = next(model.parameters()).device
    probs, feats = [], []
    for i in range(0, len(images), batch_size):
        x = images[i : i + batch_size].to(device)
        if features:
            f = model.features(x)
            feats.append(f.cpu())
            probs.append(torch.softmax(model.head(f), 1).cpu())
        else:
            probs.append(torch.softmax(model(x), 1).cpu())
    probs = torch.cat(probs).float().numpy()
    return (probs, torch.cat(feats).float().numpy()) if features else probs


@torch.inference_mode()
def predict_logits(
    model: nn.Module, images: torch.Tensor, batch_size: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """Logits ``[N, classes]`` and penultimate features ``[N, D]`` for images in [-1, 1] (any
    classifier module gives its logits; the features only a :class:`SeedClassifier`, others
    ``[N, 0]``)."""
    model.eval()
    device = next(model.parameters()).device
    logits, feats = [], []
    for i in range(0, len(images), batch_size):
        x = images[i : i + batch_size].to(device)
        if isinstance(model, SeedClassifier):
            f = model.features(x)
            logits.append(model.head(f).float().cpu())
        else:
            logits.append(model(x).float().cpu())
            f = torch.zeros(len(x), 0)
        feats.append(f.float().cpu())
    if not logits:
        return np.zeros((0, 0), np.float32), np.zeros((0, 0), np.float32)
    return torch.cat(logits).numpy(), torch.cat(feats).numpy()


def evaluate(model: SeedClassifier, dataset, classes: list[str]) -> dict:
    """Accuracy, per-class precision/recall/F1, macro-F1, the confusion matrix and the expected
    calibration error on ``dataset``."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    from seed_gan.confidence import calibration_error, softmax

    items = [dataset[i] for i in range(len(dataset))]  # each item read once
    images = torch.stack([x for x, _ in items])
    truth = np.array([int(y) for _, y in items])
    logits, _ = predict_logits(model, images)
    confidence = getattr(model, "confidence", None)
    probs = softmax(logits.astype(np.float64))
    calibrated = confidence.probabilities(logits) if confidence is not None else probs
    pred = probs.argmax(1)
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
        # expected calibration error of the softmax, and after the model's temperature if any
        "ece": calibration_error(probs, truth),
        "ece_calibrated": calibration_error(calibrated, truth) if confidence is not None else None,
    }
