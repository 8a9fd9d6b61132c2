"""core-flows layers as ``normflows`` flows (the ``normflows`` extra).

    import normflows as nf
    from core_flows.adapters.normflows_flow import InvertibleConvFlow

    flows = [InvertibleConvFlow("finc", channels=4), ...]  # with normflows' own flows
    model = nf.NormalizingFlow(nf.distributions.DiagGaussian((4, 8, 8)), flows)

normflows runs its flows the other way round from ours: a flow's ``forward`` maps latent to data
(sampling) and ``inverse`` maps data to latent (density), each returning the log-determinant of
its own direction; the adapter swaps the two directions of the core-flows layer accordingly.
"""

from __future__ import annotations

from normflows.flows import Flow
from torch import Tensor

from core_flows.adapters import make_convolution
from core_flows.layers import FlowLayer

__all__ = ["InvertibleConvFlow", "LayerFlow"]


class LayerFlow(Flow):
    """Any core-flows :class:`~core_flows.layers.FlowLayer` as a normflows ``Flow``."""

    def __init__(self, layer: FlowLayer):
        super().__init__()
        self.layer = layer

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        return self.layer.inverse(z)  # latent → data

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        return self.layer(z)  # data → latent


class InvertibleConvFlow(LayerFlow):
    """An exact k×k convolution (``cinc``, ``finc`` or ``inverse``, see
    :mod:`core_flows.adapters`) on images ``[B, channels, H, W]``."""

    def __init__(self, kind: str = "finc", channels: int = 4, kernel_size: int = 3):
        super().__init__(make_convolution(kind, channels, kernel_size))
