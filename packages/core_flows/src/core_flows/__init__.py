"""Normalizing flows with exactly invertible k×k convolutions (CInC, FInC, Inverse-Flow).

Every layer follows one contract: ``forward(x) -> (z, logdet)`` (data to latent) and
``inverse(z) -> (x, logdet)``, with ``logdet`` of shape ``[B]``. The mathematics lives in
:mod:`core_flows.functional`; the layers hold parameters and parametrisations.
"""

from core_flows import functional
from core_flows.errors import CheckpointError, NotInvertibleError
from core_flows.layers import (
    ActNorm,
    AffineCoupling,
    CInCConv2d,
    EmergingConv2d,
    FInCConv2d,
    FInCUnit,
    FlowLayer,
    FlowSequential,
    InvConv1x1,
    InverseConv2d,
    InverseFlowUnit,
    QuadCoupling,
    Squeeze,
)

__version__ = "0.1.0"

__all__ = [
    "ActNorm",
    "AffineCoupling",
    "CInCConv2d",
    "CheckpointError",
    "EmergingConv2d",
    "FInCConv2d",
    "FInCUnit",
    "FlowLayer",
    "FlowSequential",
    "InvConv1x1",
    "InverseConv2d",
    "InverseFlowUnit",
    "NotInvertibleError",
    "QuadCoupling",
    "Squeeze",
    "functional",
]
