import json
import math
import re

import pytest
import torch
from torch.autograd.functional import jacobian

from core_flows import CheckpointError
from core_flows.data import dequantize, load_images
from core_flows.models import PAPER_CONFIGS, PRESETS, MultiScaleFlow, build_flow
from core_flows.pretrained_models import available_models, load_flow, model_dir
from core_flows.training import TrainConfig, evaluate_bits_per_dim, lr_factor, train
from flow_test_utils import assert_close

VARIANTS = [(p, "affine") for p in PRESETS] + [("cinc", "quad")]


def tiny(preset, coupling="affine", shape=(1, 8, 8), levels=2, steps=2, width=8, seed=0, **kw):
    """A tiny flow moved off its identity initialisation."""
    torch.manual_seed(seed)
    flow = build_flow(preset, shape, levels, steps, width, coupling=coupling, **kw)
    flow.initialize(torch.rand(16, *shape))
    with torch.no_grad():
        for p in flow.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return flow


@pytest.mark.parametrize("preset,coupling", VARIANTS)
def test_every_preset_round_trips(preset, coupling):
    flow = tiny(preset, coupling, shape=(2, 8, 8))
    x = torch.rand(3, 2, 8, 8)
    zs, logdet = flow(x)
    assert [tuple(z.shape[1:]) for z in zs] == flow.latent_shapes and logdet.shape == (3,)
    x_rec, inv_logdet = flow.inverse(zs)
    rel = ((x_rec - x).norm() / x.norm()).item()
    assert rel < 1e-5, f"relative round-trip error {rel:.2e}"
    assert_close(inv_logdet, -logdet, atol=1e-3, what="inverse logdet")


@pytest.mark.parametrize("preset,coupling", VARIANTS)
@pytest.mark.parametrize("logit_alpha", [None, 1e-6])
def test_log_prob_is_the_change_of_variables_sum(preset, coupling, logit_alpha):
    """Dense float64 Jacobian of x → all latents, plus the priors, against log_prob."""
    flow = tiny(preset, coupling, shape=(1, 4, 4), steps=1, width=4, logit_alpha=logit_alpha)
    flow = flow.double().eval()
    with torch.no_grad():
        for prior in flow.priors:  # non-trivial split priors
            prior.conv.weight.normal_(0, 0.1)
            prior.conv.bias.normal_(0, 0.1)
    x = torch.rand(2, 1, 4, 4, dtype=torch.float64) * 0.98 + 0.01
    expected = []
    for xi in x:
        jac = jacobian(
            lambda v: torch.cat([z.flatten() for z in flow(v.view(1, 1, 4, 4))[0]]), xi.flatten()
        )
        logabsdet = torch.linalg.slogdet(jac)[1]
        zs, _ = flow(xi[None])
        normal = torch.distributions.Normal(0.0, 1.0)
        log_prior = normal.log_prob(zs[-1]).sum()
        # the kept half at level 0, rebuilt from the top latent by the inverse path
        kept = flow.squeeze.inverse(flow.blocks[1].inverse(zs[-1])[0])[0]
        mean, log_std = flow.priors[0](kept)
        log_prior = (
            log_prior + torch.distributions.Normal(mean, log_std.exp()).log_prob(zs[0]).sum()
        )
        expected.append(log_prior + logabsdet)
    assert_close(flow.log_prob(x), torch.stack(expected), atol=1e-8, what="log_prob")


def test_bits_per_dim_definition():
    flow = tiny("glow", num_levels=17)
    x = torch.rand(4, 1, 8, 8)
    expected = (-flow.log_prob(x) + 64 * math.log(17)) / (64 * math.log(2))
    assert_close(flow.bits_per_dim(x), expected, atol=1e-5, what="bits/dim")


def test_sampling_shapes_temperature_and_seed():
    flow = tiny("finc", shape=(3, 8, 8))
    g = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    a, b = flow.sample(5, 0.7, g()), flow.sample(5, 0.7, g())
    assert a.shape == (5, 3, 8, 8) and torch.isfinite(a).all() and torch.equal(a, b)
    cold = flow.sample(2, 0.0)
    assert_close(cold[0], cold[1], atol=1e-6, what="temperature 0")  # the prior mode, no noise


def test_save_and_reload_gives_identical_log_prob(tmp_path):
    flow = tiny("inverse_flow", shape=(1, 8, 8))
    x = torch.rand(4, 1, 8, 8)
    flow.save_pretrained(tmp_path)
    loaded = MultiScaleFlow.from_pretrained(tmp_path)
    assert loaded.config == flow.config
    assert torch.equal(loaded.log_prob(x), flow.log_prob(x))


def test_corrupt_or_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        MultiScaleFlow.from_pretrained(tmp_path)
    tiny("glow").save_pretrained(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        MultiScaleFlow.from_pretrained(tmp_path)
    tiny("glow").save_pretrained(tmp_path)
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        MultiScaleFlow.from_pretrained(tmp_path)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"preset": "nope"}, "preset"),
        ({"coupling": "triple"}, "coupling"),
        ({"image_shape": (1, 6, 6)}, "divisible by 2\\*\\*levels"),
        ({"num_levels": 1}, "num_levels"),
    ],
)
def test_bad_model_arguments(kwargs, message):
    args = {"preset": "glow", "image_shape": (1, 8, 8), "levels": 2, "steps": 1, "width": 4}
    with pytest.raises(ValueError, match=message):
        build_flow(**{**args, **kwargs})


def test_wrong_input_shape_is_rejected():
    with pytest.raises(ValueError, match="expected images of shape"):
        tiny("glow").log_prob(torch.rand(2, 1, 16, 16))


def test_paper_configs_build():
    cfg = PAPER_CONFIGS["mnist"]
    flow = build_flow("finc", cfg["image_shape"], cfg["levels"], 1, 8)
    assert flow.latent_shapes == [(2, 14, 14), (8, 7, 7)]


@pytest.fixture(scope="module")
def small_digits():
    data = load_images("digits")
    data.train, data.test = data.train[:256], data.test[:64]
    return data


@pytest.mark.parametrize("seed", range(5))
def test_training_lowers_the_loss_without_nan(seed, small_digits, tmp_path):
    flow = build_flow("finc", (1, 8, 8), 2, 2, 16, num_levels=17)
    before = evaluate_bits_per_dim(tiny_init(flow, small_digits, seed), small_digits.train, 17)
    config = TrainConfig(
        epochs=4,
        batch_size=32,
        lr=2e-3,
        warmup_steps=5,
        seed=seed,
        sample_count=4,
        progress=False,
        device="cpu",
    )
    history = train(flow, small_digits, tmp_path, config)
    assert all(math.isfinite(h["train_bpd"]) and math.isfinite(h["test_bpd"]) for h in history)
    after = evaluate_bits_per_dim(flow, small_digits.train, 17)
    assert after < before - 0.2, f"bits/dim {before:.3f} → {after:.3f}"
    assert (tmp_path / "model" / "model.safetensors").is_file()
    assert (tmp_path / "samples" / "epoch_004.png").is_file()
    assert (tmp_path / "bits_per_dim.png").is_file()


def test_learning_rate_schedules():
    assert [lr_factor(s, 4, "constant", 100) for s in (0, 3, 50, 99)] == [0.25, 1.0, 1.0, 1.0]
    cosine = [lr_factor(s, 4, "cosine", 100) for s in (0, 3, 50, 100, 150)]
    assert cosine[0] == pytest.approx(0.25) and cosine[1] == pytest.approx(0.9978, abs=1e-4)
    assert cosine[2] == pytest.approx(0.5) and cosine[3] == cosine[4] == 0.0


def test_cosine_training_ends_at_zero_learning_rate(small_digits, tmp_path):
    flow = build_flow("glow", (1, 8, 8), 2, 1, 8, num_levels=17)
    config = TrainConfig(
        epochs=2, batch_size=64, lr_schedule="cosine", sample_count=4, progress=False, device="cpu"
    )
    train(flow, small_digits, tmp_path, config)
    state = torch.load(tmp_path / "trainer_state.pt", weights_only=True)
    assert state["step"] == 8  # 256 images, batch 64, 2 epochs
    assert state["scheduler"]["_last_lr"][0] == 0.0
    with pytest.raises(ValueError, match="lr_schedule must be one of"):
        train(flow, small_digits, tmp_path / "bad", TrainConfig(lr_schedule="linear"))


def tiny_init(flow, data, seed):
    torch.manual_seed(seed)
    flow.initialize(dequantize(data.train[:128], data.num_levels))
    return flow


@pytest.mark.parametrize("preset,coupling", VARIANTS)
def test_each_preset_trains(preset, coupling, small_digits, tmp_path):
    flow = build_flow(preset, (1, 8, 8), 2, 1, 8, coupling=coupling, num_levels=17)
    before = evaluate_bits_per_dim(tiny_init(flow, small_digits, 0), small_digits.train, 17)
    config = TrainConfig(
        epochs=3,
        batch_size=32,
        lr=3e-3,
        warmup_steps=2,
        sample_count=4,
        progress=False,
        device="cpu",
    )
    history = train(flow, small_digits, tmp_path, config)
    assert all(math.isfinite(h["test_bpd"]) for h in history)
    after = evaluate_bits_per_dim(flow, small_digits.train, 17)
    assert after < before - 0.1, f"bits/dim {before:.3f} → {after:.3f}"


@pytest.mark.parametrize("name", ["finc-digits", "inverse_flow-digits"])
def test_shipped_models_reproduce_their_model_cards(name):
    flow = load_flow(name, "cpu")
    assert name in available_models()
    card = (model_dir(name) / "MODEL_CARD.md").read_text()
    claimed = float(re.search(r"test bits/dim \| \*\*([0-9.]+)\*\*", card).group(1))
    data = load_images("digits")
    measured = evaluate_bits_per_dim(flow, data.test, data.num_levels)
    assert abs(measured - claimed) < 1e-3, f"card says {claimed}, measured {measured:.4f}"
    assert measured < 3.0  # trained: a uniform model scores log2(17) = 4.09
    assert torch.isfinite(flow.sample(4)).all()


def test_rejected_resume_keeps_the_original_run(small_digits, tmp_path):
    config = TrainConfig(epochs=1, batch_size=128, sample_count=4, progress=False, device="cpu")
    train(build_flow("finc", (1, 8, 8), 2, 1, 8, num_levels=17), small_digits, tmp_path, config)
    before = (tmp_path / "train_config.json").read_text()
    other = build_flow("glow", (1, 8, 8), 2, 1, 8, num_levels=17)
    with pytest.raises(ValueError, match="different model config"):
        train(other, small_digits, tmp_path, config, resume=True)
    assert (tmp_path / "train_config.json").read_text() == before


def test_the_shipped_mnist_flow_card_agrees_with_its_recorded_evaluation():
    """finc-mnist's figures need real MNIST to remeasure (not shipped); the card, the recorded
    evaluation and the weights must at least agree with each other."""
    folder = model_dir("finc-mnist")
    card = (folder / "MODEL_CARD.md").read_text()
    claimed = float(re.search(r"validation bits/dim \| \*\*([0-9.]+)\*\*", card).group(1))
    recorded = json.loads((folder / "evaluation.json").read_text())
    assert abs(recorded["bits_per_dim"] - claimed) < 1e-3
    assert recorded["split"].startswith("validation split (10000 training images")
    flow = load_flow("finc-mnist", "cpu")
    assert flow.image_shape == (1, 28, 28) and flow.num_levels == 256
    assert torch.isfinite(flow.sample(2, 0.8, torch.Generator().manual_seed(0))).all()
