"""Whole flow models built from :mod:`core_flows.layers`."""

from core_flows.models.multiscale import (
    PAPER_CONFIGS,
    PRESETS,
    MultiScaleFlow,
    build_flow,
    flow_step,
)

__all__ = ["PAPER_CONFIGS", "PRESETS", "MultiScaleFlow", "build_flow", "flow_step"]
