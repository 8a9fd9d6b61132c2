"""What every training loop owes its user: a checkpoint when Ctrl-C stops it, and a stop (not a
saved model) when its loss stops being a number."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

import torch

__all__ = ["check_finite_loss", "checkpoint_on_interrupt"]

log = logging.getLogger(__name__)


@contextlib.contextmanager
def checkpoint_on_interrupt(save: Callable[[], object], what: str) -> Iterator[None]:
    """Run the block; on Ctrl-C call ``save()`` (so ``--resume`` continues from there) and let
    the interrupt go on to the command's one-line report."""
    try:
        yield
    except KeyboardInterrupt:
        save()
        log.warning("%s: interrupted; a checkpoint was written, --resume continues", what)
        raise


def check_finite_loss(loss: torch.Tensor, step: int, what: str) -> None:
    """Raise ``RuntimeError`` when ``loss`` is NaN or infinite: the run stops before the diverged
    weights reach a checkpoint (the last good one stays for ``--resume``)."""
    if not torch.isfinite(loss).all():
        raise RuntimeError(
            f"{what}: the loss is {loss.detach().float().mean().item()} at step {step}; stopped "
            "without saving (lower the learning rate; --resume continues from the last checkpoint)"
        )
