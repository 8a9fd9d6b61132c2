"""Shared test helpers: structured random kernels, an independent dense reference, error reports."""

from __future__ import annotations

import torch

from core_flows.functional import corner_index


def make_weight(c, k, order="TL", dtype=torch.float64, unit=False, triangular=True, seed=0):
    """A random kernel with a well-conditioned corner tap (lower-triangular unless told)."""
    g = torch.Generator().manual_seed(seed)
    # off-corner gain ~0.5: the inverse is a recursive filter, stable while that gain stays below 1
    w = torch.randn(c, c, k, k, generator=g, dtype=dtype) * (0.5 / (c**0.5 * k))
    corner = torch.randn(c, c, generator=g, dtype=dtype) * 0.3
    if triangular:
        corner = torch.tril(corner, -1)
    signs = torch.where(torch.rand(c, generator=g) < 0.5, -1.0, 1.0).to(dtype)
    diag = (
        torch.ones(c, dtype=dtype)
        if unit
        else signs * (0.8 + torch.rand(c, generator=g, dtype=dtype))
    )
    ci, cj = corner_index(order, k)
    w[:, :, ci, cj] = corner + torch.diag(diag)
    return w


def reference_matrix(weight, height, width, order):
    """Dense matrix of the causal convolution built from the definition, pixel by pixel."""
    c, _, k, _ = weight.shape
    top = k - 1 if order[0] == "T" else 0
    left = k - 1 if order[1] == "L" else 0
    n = c * height * width
    m = torch.zeros(n, n, dtype=weight.dtype)
    rows = torch.arange(c) * height * width
    for h in range(height):
        for w in range(width):
            for r in range(k):
                for s in range(k):
                    hh, ww = h + r - top, w + s - left
                    if 0 <= hh < height and 0 <= ww < width:
                        out = rows + h * width + w
                        inp = rows + hh * width + ww
                        m[out[:, None], inp[None, :]] += weight[:, :, r, s]
    return m


def assert_close(actual, expected, atol=0.0, rtol=0.0, what="tensor"):
    """Like torch.testing.assert_close, but reports the maximum error and where it is."""
    err = (actual - expected).abs()
    bound = atol + rtol * expected.abs()
    if not bool((err <= bound).all()):
        idx = torch.nonzero(err - bound == (err - bound).max())[0].tolist()
        raise AssertionError(
            f"{what}: max abs error {err.max().item():.3e} at {idx} "
            f"(actual {actual[tuple(idx)].item():.6g}, expected {expected[tuple(idx)].item():.6g})"
        )
