"""Solvers behind :func:`core_flows.functional.causal_conv2d_inverse` (CPU reference and GPU kernels)."""
