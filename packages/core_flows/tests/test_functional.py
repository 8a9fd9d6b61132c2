import itertools

import pytest
import torch

from core_flows import NotInvertibleError
from core_flows.functional import (
    ORDERS,
    causal_conv2d,
    causal_conv2d_inverse,
    causal_conv2d_logdet,
    causal_conv2d_matrix,
    corner_index,
    inverse_backends,
    quad_causal_conv2d_inverse,
)
from core_flows.ops.causal_inverse import transposed_solve
from flow_test_utils import assert_close, make_weight, reference_matrix

SOLVER_BACKENDS = ["wavefront", "sequential", "dense"]


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("k", [1, 2, 3])
def test_conv_equals_reference_matrix(order, k):
    w = make_weight(3, k, order, triangular=False)
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    m = reference_matrix(w, 4, 5, order)
    y = causal_conv2d(x, w, order)
    assert_close(y.reshape(2, -1), x.reshape(2, -1) @ m.T, atol=1e-12, what="conv vs matrix")
    assert_close(causal_conv2d_matrix(w, 4, 5, order), m, atol=1e-12, what="causal_conv2d_matrix")


@pytest.mark.parametrize("order", ORDERS)
def test_matrix_is_block_triangular_in_the_orders_raster(order):
    w = make_weight(2, 3, order)
    h, wd = 3, 4
    m = reference_matrix(w, h, wd, order)
    # Put pixels in the raster order of the corner (pixel-major, channel-minor): lower-triangular.
    rows = range(h) if order[0] == "T" else reversed(range(h))
    cols = list(range(wd)) if order[1] == "L" else list(reversed(range(wd)))
    perm = [c * h * wd + r * wd + q for r in rows for q in cols for c in range(2)]
    mp = m[perm][:, perm]
    assert torch.equal(mp, torch.tril(mp))
    ci, cj = corner_index(order, 3)
    assert torch.equal(mp[:2, :2], w[:, :, ci, cj])


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("backend", SOLVER_BACKENDS)
@pytest.mark.parametrize("triangular", [True, False])
def test_inverse_round_trip_float64(order, backend, triangular):
    w = make_weight(4, 3, order, triangular=triangular)
    x = torch.randn(2, 4, 6, 9, dtype=torch.float64)
    x_rec = causal_conv2d_inverse(causal_conv2d(x, w, order), w, order, backend)
    assert_close(x_rec, x, atol=1e-10, what=f"{backend} round trip")


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("backend", ["wavefront", "sequential"])
def test_inverse_round_trip_float32(order, backend):
    torch.manual_seed(0)
    w = make_weight(16, 3, order, dtype=torch.float32)
    x = torch.randn(2, 16, 32, 32)
    x_rec = causal_conv2d_inverse(causal_conv2d(x, w, order), w, order, backend)
    rel = (x_rec - x).norm() / x.norm()
    assert rel < 1e-4, f"relative error {rel:.2e}"


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_inverse_low_precision_keeps_dtype(dtype):
    w = make_weight(8, 3, dtype=torch.float32)
    x = torch.randn(2, 8, 8, 8)
    y = causal_conv2d(x, w).to(dtype)
    x_rec = causal_conv2d_inverse(y, w.to(dtype))
    assert x_rec.dtype == dtype
    assert (x_rec.float() - x).abs().max() < 0.1


def test_backends_agree_and_auto_is_wavefront_on_cpu():
    w = make_weight(3, 3, "BR")
    y = torch.randn(2, 3, 5, 7, dtype=torch.float64)
    assert set(SOLVER_BACKENDS) < set(inverse_backends())
    outs = {b: causal_conv2d_inverse(y, w, "BR", b) for b in ["auto", *SOLVER_BACKENDS]}
    for b in SOLVER_BACKENDS:
        assert_close(outs[b], outs["dense"], atol=1e-12, what=b)
    assert torch.equal(outs["auto"], outs["wavefront"])


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("triangular", [True, False])
def test_logdet_equals_slogdet_of_dense_matrix(order, triangular):
    w = make_weight(3, 3, order, triangular=triangular)
    sign, logabs = torch.linalg.slogdet(reference_matrix(w, 4, 5, order))
    assert sign != 0
    assert_close(causal_conv2d_logdet(w, 4, 5, order), logabs, atol=1e-9, what="logdet")


def test_unit_diagonal_is_volume_preserving():
    w = make_weight(3, 3, "TR", unit=True)
    assert abs(torch.linalg.slogdet(reference_matrix(w, 4, 5, "TR"))[1]) < 1e-9
    assert abs(causal_conv2d_logdet(w, 4, 5, "TR")) < 1e-12


def test_transposed_solve_is_inverse_transpose():
    w = make_weight(3, 3, "TL", triangular=False)
    g = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    m = reference_matrix(w, 4, 5, "TL")
    expected = torch.linalg.solve(m.T, g.reshape(2, -1).T).T.reshape(g.shape)
    for backend in SOLVER_BACKENDS:
        assert_close(transposed_solve(g, w, backend), expected, atol=1e-10, what=backend)


GRAD_CASES = list(itertools.product([1, 2, 3, 5], [2, 3, 5], ORDERS))


@pytest.mark.parametrize("c,k,order", GRAD_CASES)
def test_gradcheck_inverse(c, k, order):
    w = make_weight(c, k, order, triangular=False, seed=c * 10 + k).requires_grad_()
    y = torch.randn(2, c, 3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda y, w: causal_conv2d_inverse(y, w, order), (y, w))


@pytest.mark.parametrize("backend", ["sequential", "dense"])
def test_gradcheck_other_backends(backend):
    w = make_weight(2, 3, "BL").requires_grad_()
    y = torch.randn(1, 2, 4, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda y, w: causal_conv2d_inverse(y, w, "BL", backend), (y, w))


def test_gradient_matches_dense_autograd():
    w = make_weight(3, 3, "TR", triangular=False).requires_grad_()
    y = torch.randn(2, 3, 4, 5, dtype=torch.float64, requires_grad=True)
    g = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    gy, gw = torch.autograd.grad((causal_conv2d_inverse(y, w, "TR") * g).sum(), (y, w))
    x_dense = torch.linalg.solve(causal_conv2d_matrix(w, 4, 5, "TR"), y.reshape(2, -1).T).T.reshape(
        y.shape
    )
    gy_ref, gw_ref = torch.autograd.grad((x_dense * g).sum(), (y, w))
    assert_close(gy, gy_ref, atol=1e-10, what="dL/dy")
    assert_close(gw, gw_ref, atol=1e-10, what="dL/dK")


@pytest.mark.parametrize("backend", SOLVER_BACKENDS)
def test_singular_corner_raises(backend):
    w = make_weight(3, 3)
    w[1, 1, 2, 2] = 0.0
    with pytest.raises(NotInvertibleError, match="channels \\[1\\]"):
        causal_conv2d_inverse(torch.randn(1, 3, 4, 4, dtype=torch.float64), w, backend=backend)
    w = make_weight(2, 3, triangular=False)
    w[:, :, 2, 2] = torch.tensor([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(ValueError, match="singular"):
        causal_conv2d_inverse(torch.randn(1, 2, 4, 4, dtype=torch.float64), w, backend=backend)


def test_bad_arguments_raise_value_errors(monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    w = make_weight(3, 3)
    y = torch.randn(1, 3, 4, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="order"):
        causal_conv2d(y, w, "XY")
    with pytest.raises(ValueError, match="backend"):
        causal_conv2d_inverse(y, w, backend="magic")
    with pytest.raises(ValueError, match="channels"):
        causal_conv2d(torch.randn(1, 2, 4, 4, dtype=torch.float64), w)
    with pytest.raises(ValueError, match=r"\[C, C, k, k\]"):
        causal_conv2d(y, w[:, :2])
    with pytest.raises(ValueError, match="dtype"):
        causal_conv2d_inverse(y.float(), w)
    with pytest.raises(ValueError, match="TRITON_INTERPRET"):
        causal_conv2d_inverse(y.float(), w.float(), backend="triton")
    with pytest.raises(ValueError, match="float64"):  # the kernels compute in float32
        causal_conv2d_inverse(y, w, backend="triton")
    with pytest.raises(ValueError, match="dense"):
        causal_conv2d_inverse(torch.randn(1, 3, 80, 80, dtype=torch.float64), w, backend="dense")


@pytest.mark.parametrize("sizes", [(2, 2, 2, 2), (2, 1, 1, 1)])  # grouped solve, per-group loop
def test_quad_inverse_round_trip_and_gradcheck(sizes):
    weights = [
        make_weight(c, 3, o, triangular=False, seed=j).requires_grad_()
        for j, (c, o) in enumerate(zip(sizes, ORDERS))
    ]
    x = torch.randn(2, sum(sizes), 3, 4, dtype=torch.float64)
    parts = x.split(list(sizes), 1)
    y = torch.cat([causal_conv2d(p, w, o) for p, w, o in zip(parts, weights, ORDERS)], 1)
    got = quad_causal_conv2d_inverse(y, weights, list(ORDERS), "wavefront")
    assert_close(got, x, atol=1e-10, what="quad round trip")
    y = y.detach().requires_grad_()
    assert torch.autograd.gradcheck(
        lambda y, *ws: quad_causal_conv2d_inverse(y, list(ws), list(ORDERS), "wavefront"),
        (y, *weights),
    )
