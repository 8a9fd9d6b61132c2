import numpy as np
import pytest
import torch

from affine_sr.data import PairedCrops, procedural_texture
from affine_sr.model import AffineSR
from affine_sr.pipeline import DEFAULTS, estimate, refined, upscale_image
from affine_sr.refiner import Refiner
from affine_sr.train import train_refiner


def _randomised(refiner: Refiner) -> Refiner:
    """A refiner whose (zero-initialised) last layer is not zero, so it changes its input."""
    torch.manual_seed(1)
    torch.nn.init.normal_(refiner.tail.weight, std=0.02)
    return refiner.eval()


def test_an_untrained_refiner_returns_the_estimate_exactly():
    lr, estimate = torch.rand(2, 3, 8, 12) * 2 - 1, torch.rand(2, 3, 32, 48) * 2 - 1
    refiner = Refiner(4, width=8, blocks=2)
    assert torch.equal(refiner(lr, estimate), estimate)
    with pytest.raises(ValueError, match="not 4×"):
        refiner(lr, estimate[..., :40])


def test_the_refiner_is_saved_with_the_model_and_a_stale_one_removed(tmp_path, tiny_model):
    tiny_model.refiner = _randomised(Refiner(4, width=8, blocks=1))
    tiny_model.save_pretrained(tmp_path / "m")
    loaded = AffineSR.from_pretrained(tmp_path / "m")
    assert loaded.refiner is not None and loaded.refiner.config["width"] == 8
    assert torch.equal(loaded.refiner.tail.weight, tiny_model.refiner.tail.weight)
    # stage 2 does not train the refiner
    refiner_params = {id(p) for p in loaded.refiner.parameters()}
    assert not refiner_params & {id(p) for p in loaded.trainable_parameters()}
    loaded.refiner = None
    loaded.save_pretrained(tmp_path / "m")
    assert AffineSR.from_pretrained(tmp_path / "m").refiner is None


def test_the_pipeline_refines_and_tiles_agree_with_the_whole_image(tiny_model):
    tiny_model.refiner = _randomised(Refiner(4, width=8, blocks=1))
    image = np.random.default_rng(0).integers(0, 256, (40, 72, 3), dtype=np.uint8)
    refined_image = upscale_image(tiny_model, image, tile=0)
    bare = upscale_image(tiny_model, image, tile=0, refine=False)
    assert refined_image.shape == (160, 288, 3)
    assert np.abs(refined_image.astype(float) - bare).mean() > 0.5  # the refiner acts
    lr, estimate = torch.rand(1, 3, 40, 72) * 2 - 1, torch.rand(1, 3, 160, 288) * 2 - 1
    whole = refined(tiny_model.refiner, lr, estimate)
    tiled = refined(tiny_model.refiner, lr, estimate, tile=24, overlap=8)
    assert 10 * torch.log10(4 / (whole - tiled).pow(2).mean()) > 40


def test_stage_three_trains_only_the_refiner_and_lowers_the_loss(tmp_path, tiny_model):
    rng = np.random.default_rng(0)
    data = PairedCrops([procedural_texture(rng, 64) for _ in range(4)], crop=32, length=8)
    before = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    hr, lr = (torch.stack(t) for t in zip(*(data[i] for i in range(8))))
    guess = estimate(tiny_model, lr, 4, 1, 1.0, DEFAULTS["color"])
    start = (guess - hr).abs().mean()
    train_refiner(
        tiny_model, data, tmp_path / "model", steps=40, batch_size=4, width=8, blocks=1,
        learning_rate=3e-3, progress=False, save_every=100,
    )  # fmt: skip
    after = tiny_model.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in before.items())  # the rest stays fixed
    with torch.no_grad():
        assert (tiny_model.refiner(lr, guess) - hr).abs().mean() < 0.98 * start
    assert (tmp_path / "refiner_run" / "training_state.pt").is_file()
    assert AffineSR.from_pretrained(tmp_path / "model").refiner is not None
