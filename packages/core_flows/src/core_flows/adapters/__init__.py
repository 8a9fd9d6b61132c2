"""The invertible k×k convolutions inside other flow libraries.

``core_flows.adapters.nflows_transform`` (extra ``nflows``) and
``core_flows.adapters.normflows_flow`` (extra ``normflows``) wrap any core-flows layer, or build
one of the convolutions below by name, so a model of that library gains an exact k×k convolution:

============== ===================================================================
``cinc``       :class:`~core_flows.layers.CInCConv2d`, learnable diagonal
``finc``       :class:`~core_flows.layers.FInCUnit`, four corner convolutions, volume preserving
``inverse``    :class:`~core_flows.layers.InverseFlowUnit`, the solve on the density side
============== ===================================================================
"""

from __future__ import annotations

from core_flows.layers import CInCConv2d, FInCUnit, FlowLayer, InverseFlowUnit

__all__ = ["CONVOLUTIONS", "make_convolution"]

CONVOLUTIONS = {"cinc": CInCConv2d, "finc": FInCUnit, "inverse": InverseFlowUnit}


def make_convolution(kind: str, channels: int, kernel_size: int = 3) -> FlowLayer:
    """One of :data:`CONVOLUTIONS` for images of ``channels`` channels."""
    if kind not in CONVOLUTIONS:
        raise ValueError(f"unknown convolution {kind!r}: choose from {', '.join(CONVOLUTIONS)}")
    return CONVOLUTIONS[kind](channels, kernel_size)
