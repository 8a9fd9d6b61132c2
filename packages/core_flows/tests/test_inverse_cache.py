"""Cached dense inverses: used for solves without gradient on the CPU, exact, and rebuilt when a
parameter changes."""

import pytest
import torch

import core_flows as cf
from core_flows import functional as F
from core_flows.layers import conv as conv_layers
from flow_test_utils import assert_close, make_weight

# name -> (factory, channels, direction that solves)
SOLVING = {
    "cinc": (lambda: cf.CInCConv2d(3, 3, "BL"), 3, "inverse"),
    "finc_k2": (lambda: cf.FInCConv2d(2, 2, "TR"), 2, "inverse"),
    "finc_unit": (lambda: cf.FInCUnit(8, 3), 8, "inverse"),
    "inverse_conv": (lambda: cf.InverseConv2d(3, 3, "BR", unit_diagonal=False), 3, "forward"),
    "inverse_flow_unit": (lambda: cf.InverseFlowUnit(8, 3), 8, "forward"),
}


def perturbed(name, dtype=torch.float64):
    torch.manual_seed(0)
    factory, channels, direction = SOLVING[name]
    layer = factory().to(dtype)
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return layer, torch.randn(2, channels, 5, 7, dtype=dtype), direction


@pytest.mark.parametrize("order", F.ORDERS)
@pytest.mark.parametrize("k", [2, 3])
def test_inverse_matrix_is_the_inverse_of_the_conv_matrix(order, k):
    w = make_weight(3, k, order)
    m = F.causal_conv2d_matrix(w, 4, 5, order)
    minv = F.causal_conv2d_inverse_matrix(w, 4, 5, order)
    assert minv.shape == m.shape and minv.dtype == w.dtype
    assert_close(minv @ m, torch.eye(60, dtype=w.dtype), atol=1e-12, what="M⁻¹ M")
    y = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    x = F.causal_conv2d_inverse(y, w, order, "wavefront")
    assert_close(y.flatten(1) @ minv.T, x.flatten(1), atol=1e-12, what="y M⁻¹ᵀ vs solve")


@pytest.mark.parametrize("name", SOLVING)
def test_no_grad_solve_uses_the_cache_and_matches_the_solver(name):
    layer, x, direction = perturbed(name)
    solve = getattr(layer, direction)
    expected, expected_logdet = solve(x)  # gradient enabled: the per-call solver
    assert layer._inverse_cache._matrices is None
    with torch.no_grad():
        got, logdet = solve(x)
    assert layer._inverse_cache._matrices is not None
    assert_close(got, expected.detach(), atol=1e-10, what="cached vs solver")
    assert torch.equal(logdet, expected_logdet.detach())
    with torch.inference_mode():
        assert_close(solve(x)[0], expected.detach(), atol=1e-10, what="second call")


@pytest.mark.parametrize("name", SOLVING)
def test_cache_follows_parameter_updates_and_image_sizes(name):
    layer, x, direction = perturbed(name)
    solve = getattr(layer, direction)
    other = "forward" if direction == "inverse" else "inverse"
    with torch.no_grad():
        solve(x)
        first = layer._inverse_cache._matrices
        for p in layer.parameters():
            p.mul_(1.1)  # in place, as optimisers and load_state_dict do
        y = getattr(layer, other)(x)[0]
        assert_close(solve(y)[0], x, atol=1e-10, what="round trip after an update")
        assert layer._inverse_cache._matrices is not first
        wide = torch.randn(1, x.shape[1], 3, 9, dtype=x.dtype)
        assert_close(solve(getattr(layer, other)(wide)[0])[0], wide, atol=1e-10, what="3×9")


def test_float32_round_trip_error_stays_small():
    torch.manual_seed(0)
    unit = cf.FInCUnit(12, 3)
    with torch.no_grad():
        for p in unit.parameters():
            p.add_(torch.randn_like(p) * 0.05)
        x = torch.randn(4, 12, 16, 16)
        z = unit(x)[0]
        cached = unit.inverse(z)[0]
    solved = unit.inverse(z)[0]
    assert unit._inverse_cache._matrices.shape == (4, 768, 768)
    assert (cached - x).abs().max() < 1e-5
    assert (solved - x).abs().max() < 1e-5


def test_large_images_gradients_and_explicit_backends_bypass_the_cache():
    torch.manual_seed(0)
    unit = cf.FInCUnit(4, 3)
    big = int((conv_layers.DENSE_INVERSE_MAX + 1) ** 0.5) + 1  # one channel per quadrant
    with torch.no_grad():
        unit.inverse(torch.randn(1, 4, big, big))
    assert unit._inverse_cache._matrices is None
    z = torch.randn(2, 4, 6, 6, requires_grad=True)
    x, _ = unit.inverse(z)
    x.sum().backward()  # gradient path: the solver's analytic backward
    assert z.grad is not None and unit._inverse_cache._matrices is None
    explicit = cf.FInCUnit(4, 3, backend="wavefront")
    with torch.no_grad():
        explicit.inverse(torch.randn(1, 4, 6, 6))
    assert explicit._inverse_cache._matrices is None


@pytest.mark.parametrize("name", ["finc_unit", "inverse_flow_unit"])
def test_the_fused_convolution_equals_the_four_convolutions(name):
    layer, x, direction = perturbed(name)
    convolve = getattr(layer, "forward" if direction == "inverse" else "inverse")
    expected, expected_logdet = convolve(x)  # gradient enabled: four separate convolutions
    with torch.no_grad():
        got, logdet = convolve(x)
        assert layer._kernel_cache._matrices.shape == (1, 8, 2, 5, 5)
        assert_close(got, expected.detach(), atol=1e-12, what="fused vs separate")
        assert torch.equal(logdet, expected_logdet.detach())
        for p in layer.parameters():
            p.mul_(0.9)
        after = convolve(x)[0]
        big = torch.randn(1, 8, 70, 70, dtype=x.dtype)  # above FUSED_MAX_PIXELS: four convs
        convolve(big)
        assert layer._kernel_cache._key[:2] == (5, 7)  # the big call did not use the cache
    with torch.enable_grad():
        assert_close(after, convolve(x)[0].detach(), atol=1e-12, what="after an update")
