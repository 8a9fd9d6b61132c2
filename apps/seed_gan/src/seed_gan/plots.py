"""Pictures of classifier results."""

from __future__ import annotations

import os

from app_toolkit.plots import plot_confusion_matrix

__all__ = ["plot_confusion"]


def plot_confusion(result: dict, path: str | os.PathLike) -> None:
    """The confusion matrix of :func:`seed_gan.classifier.evaluate`, rows normalised."""
    plot_confusion_matrix(
        result["confusion"],
        path,
        rows=result["classes"],
        columns=result["classes"],
        title=f"accuracy {result['accuracy']:.3f}, macro-F1 {result['macro_f1']:.3f}",
        ylabel="true class",
    )
