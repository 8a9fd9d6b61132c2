"""Invertible layers: ``forward(x) -> (z, logdet)`` and ``inverse(z) -> (x, logdet)``."""

from core_flows.layers.base import FlowLayer, FlowSequential
from core_flows.layers.conv import CInCConv2d, FInCConv2d, FInCUnit, InverseConv2d, InverseFlowUnit
from core_flows.layers.coupling import AffineCoupling, QuadCoupling, conditioner
from core_flows.layers.emerging import EmergingConv2d
from core_flows.layers.linear import InvConv1x1
from core_flows.layers.normalization import ActNorm
from core_flows.layers.reshape import Squeeze

__all__ = [
    "ActNorm",
    "AffineCoupling",
    "CInCConv2d",
    "EmergingConv2d",
    "FInCConv2d",
    "FInCUnit",
    "FlowLayer",
    "FlowSequential",
    "InvConv1x1",
    "InverseConv2d",
    "InverseFlowUnit",
    "QuadCoupling",
    "Squeeze",
    "conditioner",
]
