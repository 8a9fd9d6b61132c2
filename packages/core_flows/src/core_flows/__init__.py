"""Normalizing flows with exactly invertible k×k convolutions (CInC, FInC, Inverse-Flow).

Every layer follows one contract: ``forward(x) -> (z, logdet)`` (data to latent) and
``inverse(z) -> (x, logdet)``, with ``logdet`` of shape ``[B]``. The mathematics lives in
:mod:`core_flows.functional`; the layers hold parameters and parametrisations.

The public names below are imported on first use, so that ``import core_flows`` (and the command
line's ``--help``) does not load torch.
"""

from app_toolkit.lazy import lazy_names

__version__ = "0.1.0"

_LAYERS = (
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
)

_WHERE = {
    **dict.fromkeys(_LAYERS, "core_flows.layers"),
    "CheckpointError": "core_flows.errors",
    "NotInvertibleError": "core_flows.errors",
    "functional": "core_flows.functional",  # a submodule: the value is the module itself
}

__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_names(__name__, _WHERE)

