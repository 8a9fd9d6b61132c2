"""The exact convolutions inside nflows and normflows, in each library's own conventions: round
trips, log-determinants against the dense Jacobian, and a small model of that library trained a
few steps with them."""

import pytest
import torch

from core_flows.adapters import CONVOLUTIONS, make_convolution

SHAPE = (4, 6, 6)


def dense_logdet(fn, x):
    """log|det| of the Jacobian of ``fn`` at the single image ``x`` ``[1, C, H, W]``."""
    jac = torch.autograd.functional.jacobian(lambda v: fn(v.view(x.shape)).flatten(), x.flatten())
    return torch.linalg.slogdet(jac.double())[1]


def perturbed(layer):
    """Random weights: a fresh layer starts near the identity, which would hide mistakes."""
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return layer


def correlated_images(n):
    base = torch.randn(n, *SHAPE)
    return base + 0.8 * base.roll(1, dims=-1) + 0.5 * base.roll(1, dims=-2)


def test_unknown_convolution_is_refused():
    with pytest.raises(ValueError, match="unknown convolution 'glow'"):
        make_convolution("glow", 4)


@pytest.mark.parametrize("kind", CONVOLUTIONS)
def test_nflows_transform_round_trip_and_logdet(kind):
    pytest.importorskip("nflows")  # the `nflows` extra (part of `test`)
    from core_flows.adapters.nflows_transform import InvertibleConvTransform

    transform = InvertibleConvTransform(kind, channels=4)
    perturbed(transform.layer)
    x = torch.randn(3, *SHAPE, dtype=torch.float64)
    transform.double()
    z, logabsdet = transform(x)  # nflows: forward is data → noise
    back, inverse_logabsdet = transform.inverse(z)
    assert torch.allclose(back, x, atol=1e-10)
    assert torch.allclose(logabsdet, -inverse_logabsdet, atol=1e-10)
    expected = dense_logdet(lambda v: transform(v)[0], x[:1])
    assert logabsdet[0].item() == pytest.approx(expected.item(), abs=1e-8)


@pytest.mark.parametrize("kind", CONVOLUTIONS)
def test_normflows_flow_round_trip_and_logdet(kind):
    pytest.importorskip("normflows")  # the `normflows` extra (part of `test`)
    from core_flows.adapters.normflows_flow import InvertibleConvFlow

    flow = InvertibleConvFlow(kind, channels=4).double()
    perturbed(flow.layer)
    z = torch.randn(3, *SHAPE, dtype=torch.float64)
    x, log_det = flow(z)  # normflows: forward is latent → data
    back, inverse_log_det = flow.inverse(x)
    assert torch.allclose(back, z, atol=1e-10)
    assert torch.allclose(log_det, -inverse_log_det, atol=1e-10)
    expected = dense_logdet(lambda v: flow(v)[0], z[:1])
    assert log_det[0].item() == pytest.approx(expected.item(), abs=1e-8)


def train_a_few_steps(loss_fn, parameters, steps=30):
    torch.manual_seed(0)
    optimizer = torch.optim.Adam(parameters, lr=1e-2)
    losses = []
    for _ in range(steps):
        loss = loss_fn(correlated_images(64))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_an_nflows_model_with_them_trains_and_samples():
    pytest.importorskip("nflows")
    from nflows import distributions, flows, transforms

    from core_flows.adapters.nflows_transform import InvertibleConvTransform

    transform = transforms.CompositeTransform([
        InvertibleConvTransform("cinc", 4),
        transforms.OneByOneConvolution(4),
        InvertibleConvTransform("finc", 4),
        InvertibleConvTransform("inverse", 4),
    ])  # fmt: skip
    flow = flows.Flow(transform, distributions.StandardNormal(list(SHAPE)))
    losses = train_a_few_steps(lambda x: -flow.log_prob(x).mean(), flow.parameters())
    assert losses[-1] < losses[0] - 20  # the convolutions learn the pixel correlations
    with torch.no_grad():
        samples = flow.sample(5)
        assert samples.shape == (5, *SHAPE) and torch.isfinite(samples).all()
        z, _ = transform(samples)
        assert torch.allclose(transform.inverse(z)[0], samples, atol=1e-4)


def test_a_normflows_model_with_them_trains_and_samples():
    pytest.importorskip("normflows")
    import normflows as nf

    from core_flows.adapters.normflows_flow import InvertibleConvFlow

    layers = [InvertibleConvFlow("cinc", 4), InvertibleConvFlow("finc", 4),
              InvertibleConvFlow("inverse", 4)]  # fmt: skip
    model = nf.NormalizingFlow(nf.distributions.DiagGaussian(SHAPE), layers)
    losses = train_a_few_steps(model.forward_kld, model.parameters())
    assert losses[-1] < losses[0] - 20
    with torch.no_grad():
        samples, log_q = model.sample(5)
        assert samples.shape == (5, *SHAPE) and torch.isfinite(log_q).all()
        assert torch.allclose(model.log_prob(samples), log_q, atol=1e-3)
