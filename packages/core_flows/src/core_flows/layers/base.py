"""The contract every flow layer follows, and a container that chains layers."""

from __future__ import annotations

from torch import Tensor, nn

from app_toolkit.checkpoint import PretrainedMixin

__all__ = ["FlowLayer", "FlowSequential"]


class FlowLayer(PretrainedMixin, nn.Module):
    """An invertible map with log-determinant.

    ``forward(x) -> (z, logdet)`` maps data to latent; ``inverse(z) -> (x, logdet)`` maps back, with
    the log-determinant of that direction. Shapes are kept; ``logdet`` has shape ``[B]``.
    """

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        raise NotImplementedError


class FlowSequential(nn.Sequential):
    """Layers applied in order by ``forward`` and in reverse order by ``inverse``; logdets add up."""

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        logdet = x.new_zeros(x.shape[0])
        for layer in self:
            x, ld = layer(x)
            logdet = logdet + ld
        return x, logdet

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        logdet = z.new_zeros(z.shape[0])
        for layer in reversed(self):
            z, ld = layer.inverse(z)
            logdet = logdet + ld
        return z, logdet
