"""How far to trust a grade: calibrated probabilities, and a check that a photograph looks like the
kernels the classifier was trained on.

- **Calibration**: temperature scaling (Guo et al., "On calibration of modern neural networks",
  ICML 2017): one scalar ``T`` fitted on the validation split by minimising the negative
  log-likelihood of ``softmax(logits / T)``; the argmax, so the grades, are unchanged.
- **Out of distribution**: the Mahalanobis distance (Lee et al., "A simple unified framework for
  detecting out-of-distribution samples and adversarial attacks", NeurIPS 2018) of a photograph's
  low-level statistics, the mean and spread over the image of each channel of the network's first
  convolution (colour, contrast, edges: what a background, a lighting or a species changes), to
  the Gaussian of the training kernels' (Ledoit–Wolf covariance). Above the ``quantile`` of that
  distance over the validation kernels, the photograph is unlike anything the classifier learnt
  from: a softmax confidence says nothing there (a network trained on maize grades a bean
  "broken" at 1.000), so the kernel goes to review instead of into the lot's purity. (The
  penultimate features, the usual choice, flagged only 10-19% of natural photographs and drawn
  shapes for the shipped classifier; the first convolution's statistics flag all of them.)

Saved beside the classifier as ``confidence.safetensors`` (the mean and precision matrix, and the
temperature and threshold as metadata): numbers only, nothing executable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "CONFIDENCE_FILE",
    "Confidence",
    "calibrate",
    "calibration_error",
    "fit_temperature",
    "logits_and_statistics",
    "low_level_statistics",
    "softmax",
]

CONFIDENCE_FILE = "confidence.safetensors"
QUANTILE = 0.99  # share of validation kernels that pass the check


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature in [0.05, 20] minimising the validation negative log-likelihood."""
    from scipy.optimize import minimize_scalar

    logits, labels = np.asarray(logits, np.float64), np.asarray(labels)

    def nll(log_t: float) -> float:
        z = logits / np.exp(log_t)
        z = z - z.max(1, keepdims=True)
        return float((np.log(np.exp(z).sum(1)) - z[np.arange(len(z)), labels]).mean())

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20)), method="bounded")
    return float(np.exp(result.x))


def calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error: the mean |accuracy − confidence| over equal-width confidence
    bins, weighted by the bins' shares."""
    confidence, predicted = probs.max(1), probs.argmax(1)
    correct = predicted == np.asarray(labels)
    edges = np.linspace(0, 1, bins + 1)
    error = 0.0
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            error += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(error)


def logits_and_statistics(model, images, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """One pass over ``images`` (``[N, 3, H, W]`` in [-1, 1]): the logits ``[N, classes]`` and
    the :func:`low_level_statistics` ``[N, 2C]``."""
    import torch

    from seed_gan.classifier import predict_logits

    first = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    statistics = []

    def keep(module, inputs, output):
        x = output.float()
        statistics.append(torch.cat([x.mean((2, 3)), x.std((2, 3))], 1).cpu())

    handle = first.register_forward_hook(keep)
    try:
        logits, _ = predict_logits(model, images, batch_size)
    finally:
        handle.remove()
    return logits, torch.cat(statistics).double().numpy() if statistics else np.zeros((0, 0))


def low_level_statistics(model, images, batch_size: int = 256) -> np.ndarray:
    """``[N, 2C]``: per image, the mean and standard deviation over positions of each of the
    ``C`` channels of ``model``'s first convolution (images ``[N, 3, H, W]`` in [-1, 1])."""
    return logits_and_statistics(model, images, batch_size)[1]


@dataclass
class Confidence:
    """A classifier's temperature and the Gaussian of its training kernels' low-level
    statistics (see the module's text)."""

    temperature: float
    mean: np.ndarray  # [F]
    precision: np.ndarray  # [F, F]
    threshold: float

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        return softmax(np.asarray(logits, np.float64) / self.temperature)

    def distance(self, statistics: np.ndarray) -> np.ndarray:
        """Squared Mahalanobis distance ``[N]`` of :func:`low_level_statistics` rows."""
        z = np.asarray(statistics, np.float64) - self.mean
        return np.einsum("ij,jk,ik->i", z, self.precision.astype(np.float64), z)

    def unlike_training(self, statistics: np.ndarray) -> np.ndarray:
        return self.distance(statistics) > self.threshold

    def save(self, folder: str | os.PathLike) -> Path:
        from safetensors.numpy import save_file

        from app_toolkit.files import atomic_write

        path = Path(folder) / CONFIDENCE_FILE
        metadata = {"temperature": repr(self.temperature), "threshold": repr(self.threshold)}
        tensors = {"mean": np.ascontiguousarray(self.mean, np.float64),
                   "precision": np.ascontiguousarray(self.precision, np.float64)}  # fmt: skip
        atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=metadata))
        return path

    @classmethod
    def load(cls, folder: str | os.PathLike) -> Confidence | None:
        """The folder's confidence file, or ``None`` when it has none (older models)."""
        from safetensors import safe_open

        path = Path(folder) / CONFIDENCE_FILE
        if not path.is_file():
            return None
        try:
            with safe_open(str(path), "numpy") as f:
                metadata = f.metadata() or {}
                mean, precision = f.get_tensor("mean"), f.get_tensor("precision")
            confidence = cls(
                float(metadata["temperature"]), mean, precision, float(metadata["threshold"])
            )
        except Exception as err:  # safetensors' own errors, missing keys, bad numbers
            raise ValueError(f"{path}: not a valid confidence file ({err})") from None
        numbers = np.concatenate([[confidence.temperature, confidence.threshold], mean.ravel(),
                                  precision.ravel()])  # fmt: skip
        if (
            not np.isfinite(numbers).all() or confidence.temperature <= 0
            or mean.ndim != 1 or precision.shape != (len(mean), len(mean))
        ):  # fmt: skip
            raise ValueError(f"{path}: not a valid confidence file (bad values or shapes)")
        return confidence


def calibrate(model, train, val, quantile: float = QUANTILE) -> tuple:
    """Fit a :class:`Confidence` for ``model`` (a :class:`~seed_gan.classifier.SeedClassifier`)
    from datasets of its train and validation splits. Returns it and a report: the temperature,
    the validation calibration error before and after, the threshold and the share of validation
    kernels flagged."""
    import torch
    from sklearn.covariance import LedoitWolf

    def images(dataset):
        return torch.stack([dataset[i][0] for i in range(len(dataset))])

    train_statistics = low_level_statistics(model, images(train))
    mean = train_statistics.mean(0)
    precision = LedoitWolf().fit(train_statistics - mean).precision_
    logits, val_statistics = logits_and_statistics(model, images(val))
    labels = val.labels.numpy()
    temperature = fit_temperature(logits, labels)
    confidence = Confidence(temperature, mean, precision, 0.0)
    distances = confidence.distance(val_statistics)
    confidence.threshold = float(np.quantile(distances, quantile))
    report = {
        "temperature": temperature,
        "val_ece_before": calibration_error(softmax(logits), labels),
        "val_ece_after": calibration_error(confidence.probabilities(logits), labels),
        "threshold": confidence.threshold,
        "val_flagged": float(np.mean(distances > confidence.threshold)),
        "train_kernels": len(train_statistics),
    }
    return confidence, report
