"""Properties every flow layer must have; adding a layer to LAYERS is the whole cost of covering it."""

import json

import pytest
import torch
from torch.autograd.functional import jacobian

import core_flows as cf
from core_flows import functional as F
from flow_test_utils import assert_close

# name -> (factory, channels of the test input)
LAYERS = {
    **{f"cinc_{o}": (lambda o=o: cf.CInCConv2d(4, 3, o), 4) for o in F.ORDERS},
    **{f"finc_{o}": (lambda o=o: cf.FInCConv2d(4, 2, o), 4) for o in F.ORDERS},
    "cinc_k5": (lambda: cf.CInCConv2d(3, 5, "BR"), 3),
    "finc_unit": (lambda: cf.FInCUnit(8, 3), 8),
    "finc_unit_uneven": (lambda: cf.FInCUnit(6, 3), 6),
    "inverse_conv": (lambda: cf.InverseConv2d(4, 3, "TR", unit_diagonal=False), 4),
    "inverse_flow_unit": (lambda: cf.InverseFlowUnit(8, 3), 8),
    "emerging": (lambda: cf.EmergingConv2d(4, 3), 4),
    "emerging_k5": (lambda: cf.EmergingConv2d(2, 5), 2),
    "affine_coupling": (lambda: cf.AffineCoupling(5, hidden_channels=8), 5),
    "quad_coupling": (lambda: cf.QuadCoupling(8, hidden_channels=8), 8),
    "actnorm": (lambda: cf.ActNorm(4), 4),
    "invconv1x1": (lambda: cf.InvConv1x1(4), 4),
    "squeeze": (lambda: cf.Squeeze(2), 4),
    "sequential": (
        lambda: cf.FlowSequential(
            cf.ActNorm(4), cf.InvConv1x1(4), cf.FInCUnit(4), cf.AffineCoupling(4, hidden_channels=8)
        ),
        4,
    ),
}
VOLUME_PRESERVING = [
    n for n in LAYERS if n.startswith("finc") or n in ("inverse_flow_unit", "squeeze")
]


def build(name, seed=0):
    """The layer in float64 with every parameter moved off its (often identity) initialisation."""
    torch.manual_seed(seed)
    factory, channels = LAYERS[name]
    layer = factory().double()
    x = torch.randn(3, channels, 4, 6, dtype=torch.float64)
    layer(x)  # ActNorm's data-dependent initialisation
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return layer, x


@pytest.mark.parametrize("name", LAYERS)
def test_round_trip_and_shapes(name):
    layer, x = build(name)
    z, logdet = layer(x)
    assert logdet.shape == (x.shape[0],)
    x_rec, inv_logdet = layer.inverse(z)
    assert x_rec.shape == x.shape
    assert_close(x_rec, x, atol=1e-10, what="inverse(forward(x))")
    assert_close(inv_logdet, -logdet, atol=1e-10, what="inverse logdet")
    z2, _ = layer(layer.inverse(z)[0])
    assert_close(z2, z, atol=1e-10, what="forward(inverse(z))")


@pytest.mark.parametrize("name", LAYERS)
def test_logdet_matches_jacobian(name):
    layer, x = build(name)
    layer.eval()
    _, logdet = layer(x)
    for i in range(x.shape[0]):
        xi = x[i : i + 1]
        jac = jacobian(lambda v, xi=xi: layer(v.view_as(xi))[0].flatten(), xi.flatten())
        sign, logabs = torch.linalg.slogdet(jac)
        assert sign != 0
        assert_close(logdet[i], logabs, atol=1e-8, what=f"logdet of sample {i}")


@pytest.mark.parametrize("name", VOLUME_PRESERVING)
def test_volume_preserving_layers_have_zero_logdet(name):
    layer, x = build(name)
    assert torch.equal(layer(x)[1], torch.zeros(x.shape[0], dtype=x.dtype))


@pytest.mark.parametrize("name", [n for n in LAYERS if n != "sequential"])
def test_save_and_load(name, tmp_path):
    layer, x = build(name)
    layer.float().save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["_class_name"] == type(layer).__name__
    loaded = type(layer).from_pretrained(tmp_path)
    xf = x.float()
    assert torch.equal(loaded(xf)[0], layer(xf)[0])
    assert torch.equal(loaded.inverse(xf)[0], layer.inverse(xf)[0])


def test_checkpoint_errors(tmp_path):
    with pytest.raises(cf.CheckpointError, match="not found"):
        cf.FInCUnit.from_pretrained(tmp_path / "missing")
    cf.FInCUnit(8).save_pretrained(tmp_path)
    with pytest.raises(cf.CheckpointError, match="not a ActNorm"):
        cf.ActNorm.from_pretrained(tmp_path)
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(cf.CheckpointError, match="corrupt or truncated"):
        cf.FInCUnit.from_pretrained(tmp_path)


def test_quad_coupling_inverse_recovers_blocks_in_order():
    layer, x = build("quad_coupling")
    z, _ = layer(x)
    seen = []
    hooks = [
        net.register_forward_hook(lambda m, inp, out, j=j: seen.append((j, inp[0].shape[1])))
        for j, net in enumerate(layer.nets, start=2)
    ]
    x_rec, _ = layer.inverse(z)
    for h in hooks:
        h.remove()
    # block j is recovered by the conditioner fed with blocks 1..j-1 (2, 4, 6 channels here)
    assert seen == [(2, 2), (3, 4), (4, 6)]
    assert_close(x_rec, x, atol=1e-10, what="quad-coupling round trip")


def test_actnorm_initialisation_and_constant_channel(tmp_path):
    x = torch.randn(8, 3, 5, 5) * 4 + 2
    x[:, 1] = 7.0  # a constant channel must not blow up
    layer = cf.ActNorm(3)
    z, logdet = layer(x)
    assert torch.isfinite(z).all() and torch.isfinite(logdet).all()
    assert_close(z[:, [0, 2]].mean((0, 2, 3)), torch.zeros(2), atol=1e-5, what="mean")
    assert_close(z[:, [0, 2]].std((0, 2, 3), unbiased=False), torch.ones(2), atol=1e-4, what="std")
    assert torch.equal(z[:, 1], torch.zeros_like(z[:, 1]))
    assert "initialized" in layer.state_dict()
    layer.save_pretrained(tmp_path)
    loaded = cf.ActNorm.from_pretrained(tmp_path)
    x2 = torch.randn(4, 3, 5, 5)
    assert torch.equal(loaded(x2)[0], layer(x2)[0])  # loading did not re-initialise on x2


def test_inverse_conv_layer_gradients_match_dense_reference():
    """Gradient of a density loss through the Inverse-Flow solve, diagonal included."""
    layer = cf.InverseConv2d(3, 3, "BL", unit_diagonal=False).double()
    with torch.no_grad():
        layer.log_diag.copy_(torch.tensor([0.2, -0.3, 0.1]))
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    z, logdet = layer(x)
    loss = 0.5 * (z**2).sum() - logdet.sum()
    grads = torch.autograd.grad(loss, list(layer.parameters()))

    m = F.causal_conv2d_matrix(layer.kernel(), 4, 5, "BL")
    z_ref = torch.linalg.solve(m, x.reshape(2, -1).T).T
    loss_ref = 0.5 * (z_ref**2).sum() - 2 * -torch.linalg.slogdet(m)[1]
    grads_ref = torch.autograd.grad(loss_ref, list(layer.parameters()))
    for g, g_ref in zip(grads, grads_ref):
        assert_close(g, g_ref, atol=1e-9, what="parameter gradient")


def test_conv_layers_stay_invertible_under_large_parameter_updates():
    layer = cf.CInCConv2d(4, 3)
    with torch.no_grad():
        layer.weight.add_(torch.randn_like(layer.weight) * 10)
        layer.log_diag.fill_(-20.0)  # tiny, but never zero: still invertible
    corner = F.corner_tap(layer.kernel(), "TL")
    assert torch.equal(corner, torch.tril(corner)) and bool((torch.diagonal(corner) > 0).all())


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: cf.FInCUnit(3), ">= 4"),
        (lambda: cf.QuadCoupling(3), ">= 4"),
        (lambda: cf.AffineCoupling(1), ">= 2"),
        (lambda: cf.CInCConv2d(4, 3, "XX"), "order"),
        (lambda: cf.FInCConv2d(4, 3, backend="gpu"), "backend"),
    ],
)
def test_bad_constructor_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_squeeze_rejects_odd_sizes():
    with pytest.raises(ValueError, match="divisible"):
        cf.Squeeze(2)(torch.randn(1, 1, 5, 4))


def test_weights_stored_as_float16_load_as_float32(tmp_path):
    from app_toolkit.checkpoint import store_half

    torch.manual_seed(0)
    layer = cf.InvConv1x1(6)
    layer.save_pretrained(tmp_path / "a")
    size = (tmp_path / "a" / "model.safetensors").stat().st_size
    assert store_half(tmp_path) == [tmp_path / "a" / "model.safetensors"]
    assert (tmp_path / "a" / "model.safetensors").stat().st_size < size
    loaded = cf.InvConv1x1.from_pretrained(tmp_path / "a")
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    x = torch.randn(2, 6, 4, 4)
    with torch.no_grad():
        y, _ = loaded(x)
        assert torch.allclose(loaded.inverse(y)[0], x, atol=1e-4)  # still exactly invertible
