"""core-flows layers as ``nflows`` transforms (the ``nflows`` extra).

    from nflows import distributions, flows, transforms
    from core_flows.adapters.nflows_transform import InvertibleConvTransform

    transform = transforms.CompositeTransform([
        InvertibleConvTransform("finc", channels=4),
        ...  # nflows' own transforms on [B, C, H, W]
    ])
    flow = flows.Flow(transform, distributions.StandardNormal([4, 8, 8]))

nflows' convention matches ours: ``forward`` goes from data to noise with the log-determinant of
that direction, ``inverse`` samples. ``context`` is accepted and ignored (the layers are
unconditional).
"""

from __future__ import annotations

from nflows.transforms import Transform
from torch import Tensor

from core_flows.adapters import make_convolution
from core_flows.layers import FlowLayer

__all__ = ["InvertibleConvTransform", "LayerTransform"]


class LayerTransform(Transform):
    """Any core-flows :class:`~core_flows.layers.FlowLayer` as an nflows ``Transform``."""

    def __init__(self, layer: FlowLayer):
        super().__init__()
        self.layer = layer

    def forward(self, inputs: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return self.layer(inputs)

    def inverse(self, inputs: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return self.layer.inverse(inputs)


class InvertibleConvTransform(LayerTransform):
    """An exact k×k convolution (``cinc``, ``finc`` or ``inverse``, see
    :mod:`core_flows.adapters`) on images ``[B, channels, H, W]``."""

    def __init__(self, kind: str = "finc", channels: int = 4, kernel_size: int = 3):
        super().__init__(make_convolution(kind, channels, kernel_size))
