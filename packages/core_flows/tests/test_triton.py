"""Triton backends against the wavefront reference: on CPU through the Triton interpreter (turned on
by tools/pytest_offline.py before Triton is imported), on a GPU when one is present (the `gpu`
tests, larger shapes)."""

import importlib

import pytest
import torch

import core_flows as cf
from core_flows.functional import (
    ORDERS,
    causal_conv2d,
    causal_conv2d_inverse,
    quad_causal_conv2d_inverse,
)
from flow_test_utils import assert_close, make_weight

pytest.importorskip("triton")

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
FLIPS = [(o[0] == "B", o[1] == "R") for o in ORDERS]


@pytest.fixture
def triton_wavefront():
    """The kernel module (without CUDA the test plugin has turned on the Triton interpreter)."""
    return importlib.import_module("core_flows.ops.triton_wavefront")


def quad_case(sizes, k, h, w, batch=1, dtype=torch.float32, seed=0):
    weights = [
        make_weight(c, k, o, dtype=dtype, seed=seed + j).to(DEVICE)
        for j, (c, o) in enumerate(zip(sizes, ORDERS))
    ]
    x = torch.randn(batch, sum(sizes), h, w, generator=torch.Generator().manual_seed(seed))
    x = x.to(device=DEVICE, dtype=dtype)
    y = torch.cat(
        [causal_conv2d(p, wt, o) for p, wt, o in zip(x.split(sizes, 1), weights, ORDERS)], 1
    )
    return x, y, weights


def reference(y, weights):
    sizes = [w.shape[0] for w in weights]
    return torch.cat(
        [
            causal_conv2d_inverse(p.double(), wt.double(), o, "wavefront")
            for p, wt, o in zip(y.split(sizes, 1), weights, ORDERS)
        ],
        1,
    )


@pytest.mark.parametrize("sizes,k,h,w", [((1, 2, 1, 2), 3, 3, 5), ((2, 1, 1, 1), 2, 4, 3)])
def test_quad_kernel_matches_wavefront_in_one_launch(sizes, k, h, w, triton_wavefront):
    x, y, weights = quad_case(sizes, k, h, w)
    out = torch.full_like(y, float("nan"))  # every pixel must be written
    got = triton_wavefront.quad_solve(y, weights, FLIPS, out=out)
    assert_close(got.double(), reference(y, weights), atol=1e-5, what="triton quad solve")
    assert_close(got, x, atol=1e-5, what="round trip")


def test_quad_solve_names_a_singular_group(triton_wavefront):
    _, y, weights = quad_case((1, 2, 1, 2), 3, 3, 4)
    weights = [w.clone() for w in weights]
    weights[1][1, 1, -1, -1] = 0.0  # a zero on the corner tap's diagonal (TR group, seen flipped)
    weights[1][1, 1, -1, 0] = 0.0
    weights[1][1, 1, 0, -1] = 0.0
    weights[1][1, 1, 0, 0] = 0.0
    with pytest.raises(cf.NotInvertibleError, match="not invertible"):
        triton_wavefront.quad_solve(y, weights, FLIPS)


def test_transposed_quad_solve_matches_wavefront(triton_wavefront):
    _, y, weights = quad_case((1, 2, 1, 1), 3, 3, 4, seed=3)
    sizes = [w.shape[0] for w in weights]
    g = torch.randn_like(y)
    got = triton_wavefront.quad_solve(
        g,
        [w.flip(-2, -1).transpose(0, 1) for w in weights],
        [(not a, not b) for a, b in FLIPS],
        reverse_channels=True,
    )
    # the transposed solve of each group, by autograd through the reference inverse
    expected = []
    for gj, wt, o in zip(g.split(sizes, 1), weights, ORDERS):
        yj = torch.zeros_like(gj, dtype=torch.float64, requires_grad=True)
        out = causal_conv2d_inverse(yj, wt.double(), o, "wavefront")
        expected.append(torch.autograd.grad(out, yj, gj.double())[0])
    assert_close(got.double(), torch.cat(expected, 1), atol=1e-5, what="T⁻ᵀ g")


def test_triton_backend_single_conv_and_low_precision():
    w = make_weight(3, 3, "BR", dtype=torch.float32).to(DEVICE)
    x = torch.randn(1, 3, 4, 3, device=DEVICE)
    y = causal_conv2d(x, w, "BR")
    assert_close(causal_conv2d_inverse(y, w, "BR", "triton"), x, atol=1e-5, what="float32")
    for dtype in (torch.float16, torch.bfloat16):
        got = causal_conv2d_inverse(y.to(dtype), w.to(dtype), "BR", "triton")
        assert got.dtype == dtype
        assert (got.float() - x).abs().max() < 0.1


def test_unit_gradients_through_the_kernel_match_the_reference():
    """Inverse-Flow training: forward solves; input and weight gradients via the fused backward."""
    torch.manual_seed(0)
    layers = {b: cf.InverseFlowUnit(5, 3, backend=b).to(DEVICE) for b in ("triton", "wavefront")}
    layers["wavefront"].load_state_dict(layers["triton"].state_dict())
    with torch.no_grad():
        for conv in layers["triton"].convs:
            conv.weight.add_(torch.randn_like(conv.weight) * 0.1)
        layers["wavefront"].load_state_dict(layers["triton"].state_dict())
    x = torch.randn(1, 5, 3, 4, device=DEVICE)
    g = torch.randn(1, 5, 3, 4, device=DEVICE)
    grads = {}
    for name, layer in layers.items():
        xi = x.clone().requires_grad_()
        z, _ = layer(xi)
        grads[name] = torch.autograd.grad((z * g).sum(), [xi, *layer.parameters()])
    for got, ref in zip(grads["triton"], grads["wavefront"]):
        assert_close(got, ref, atol=1e-4, rtol=1e-4, what="gradient")


def test_published_schedule_matches_and_needs_a_triangular_corner():
    w = make_weight(3, 3, "TL", dtype=torch.float32).to(DEVICE)
    x = torch.randn(2, 3, 3, 4, device=DEVICE)
    y = causal_conv2d(x, w)
    assert_close(causal_conv2d_inverse(y, w, backend="published"), x, atol=1e-5, what="published")
    w_full = make_weight(3, 3, "TL", dtype=torch.float32, triangular=False).to(DEVICE)
    with pytest.raises(ValueError, match="lower-triangular"):
        causal_conv2d_inverse(y, w_full, backend="published")


def test_quad_inverse_without_triton_loops_over_groups():
    x, y, weights = quad_case((1, 1, 2, 1), 3, 3, 3)
    got = quad_causal_conv2d_inverse(y.cpu(), [w.cpu() for w in weights], list(ORDERS), "wavefront")
    assert_close(got, x.cpu(), atol=1e-5, what="grouped wavefront")


@pytest.mark.gpu
@pytest.mark.parametrize(
    "sizes,k,h,w,batch",
    [((3, 3, 3, 3), 3, 32, 32, 16), ((12, 12, 12, 12), 3, 7, 63, 3), ((5, 4, 4, 4), 5, 16, 9, 2)],
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_gpu_kernel_on_real_shapes(sizes, k, h, w, batch, dtype):
    x, y, weights = quad_case(sizes, k, h, w, batch)
    got = quad_causal_conv2d_inverse(
        y.to(dtype), [wt.to(dtype) for wt in weights], list(ORDERS), "triton"
    )
    tol = 1e-4 if dtype == torch.float32 else 5e-2
    assert_close(got.float(), x, atol=tol, rtol=tol, what=f"{dtype} quad inverse")
