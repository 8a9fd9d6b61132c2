import numpy as np
import pytest
import torch

from affine_sr.autoencoder import CouplingAutoencoder
from affine_sr.data import HELD_OUT, PairedCrops, procedural_texture, sample_images
from affine_sr.evaluate import COLUMNS, evaluate, parameter_counts
from affine_sr.model import AffineSR
from affine_sr.train import set_latent_scales, train_autoencoder, train_prior


def textures(n=4, size=64):
    rng = np.random.default_rng(0)
    return [procedural_texture(rng, size) for _ in range(n)]


def test_offline_images_and_paired_crops_repeat():
    images = sample_images()
    assert set(HELD_OUT) <= set(images)
    assert all(im.dtype == np.uint8 and im.ndim == 3 and im.shape[2] == 3 for im in images.values())
    data = PairedCrops(textures(), crop=32, scale=4, clean=0.5, length=4, seed=3)
    hr, lr = data[1]
    assert hr.shape == (3, 32, 32) and lr.shape == (3, 8, 8)
    assert hr.min() >= -1 and hr.max() <= 1
    assert torch.equal(data[1][1], lr)  # item i of an epoch is fixed
    data.epoch = 1
    assert not torch.equal(data[1][0], hr)
    with pytest.raises(ValueError, match="multiple of the scale"):
        PairedCrops(textures(), crop=30, scale=4)


def test_both_stages_train_save_and_resume(tmp_path):
    torch.manual_seed(0)
    data = PairedCrops(textures(), crop=32, scale=4, length=8)
    ae = CouplingAutoencoder(levels=3, steps=1, hidden=8, latent_channels=8)
    history = train_autoencoder(ae, data, tmp_path / "ae", steps=4, batch_size=4, progress=False)
    assert (tmp_path / "ae" / "config.json").is_file() and history[-1]["step"] == 4
    with pytest.raises(ValueError, match="--resume"):
        train_autoencoder(ae, data, tmp_path / "ae", steps=4, batch_size=4, progress=False)
    more = train_autoencoder(
        ae, data, tmp_path / "ae", steps=6, batch_size=4, resume=True, progress=False
    )
    assert more[-1]["step"] == 6

    model = AffineSR.build(ae, widths=(8, 16), layers=1)
    set_latent_scales(model, torch.utils.data.DataLoader(data, 4), 4)
    before = [p.detach().clone() for p in ae.parameters()]
    train_prior(model, data, tmp_path / "model", steps=3, batch_size=4, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, ae.parameters()))  # stage 2: AE fixed
    again = AffineSR.from_pretrained(tmp_path / "model")
    assert again.latent_scale == pytest.approx(model.latent_scale)
    assert again.residual and again.residual_scale == pytest.approx(model.residual_scale)


def test_latent_scales_give_unit_variance():
    data = PairedCrops(textures(), crop=32, scale=4, length=8)
    ae = CouplingAutoencoder(levels=3, steps=1, hidden=8, latent_channels=8)
    model = AffineSR.build(ae, widths=(8, 16), layers=1)
    set_latent_scales(model, torch.utils.data.DataLoader(data, 4), 4)
    pairs = [model.diffusion_pair(hr[None], lr[None], 4) for hr, lr in data]
    x0, condition = torch.cat([p[0] for p in pairs]), torch.cat([p[1][0] for p in pairs])
    assert x0.std().item() == pytest.approx(1, rel=0.05)  # the residual the prior generates
    hr_latents = torch.cat([model._encode(hr[None])[0] for hr, _ in data])
    assert hr_latents.std().item() == pytest.approx(1, rel=0.05)
    assert 0.5 < condition.std().item() < 1  # the LR latents: smoother than the HR ones


def test_evaluation_rows_and_summary_are_complete(tiny_model):
    refs = {"t0": textures(1, 48)[0], "t1": textures(2, 40)[1]}
    rows, summary, panels = evaluate(tiny_model, refs, scale=4, progress=False, steps=1)
    assert len(rows) == 6 and all(set(r) == set(COLUMNS) for r in rows)
    assert {r["method"] for r in rows} == {"bicubic", "lanczos", "affine-sr"}
    assert 0 <= summary["beats_lanczos_on"] <= 2
    assert all(r["detail"] > 0 for r in rows)
    assert summary["psnr_y_gain"] == pytest.approx(
        summary["affine-sr"]["psnr_y"] - summary["bicubic"]["psnr_y"]
    )
    assert summary["parameters"] == parameter_counts(tiny_model)
    assert summary["parameters"]["total"] == sum(p.numel() for p in tiny_model.parameters())
    assert len(panels) == 8


def test_interrupt_writes_a_checkpoint_and_nan_stops_without_saving(tmp_path, monkeypatch):
    import affine_sr.train as training

    torch.manual_seed(0)
    data = PairedCrops(textures(), crop=32, scale=4, length=8)
    ae = CouplingAutoencoder(levels=3, steps=1, hidden=8, latent_channels=8)
    real_loss, calls = training.autoencoder_loss, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_loss(*args, **kwargs)

    monkeypatch.setattr(training, "autoencoder_loss", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train_autoencoder(ae, data, tmp_path / "ae", steps=50, batch_size=4, progress=False)
    state = torch.load(tmp_path / "ae" / training.STATE_FILE, weights_only=True)
    assert state["step"] == 2  # two steps done, saved although --save-every is 500
    more = train_autoencoder(
        ae, data, tmp_path / "ae", steps=4, batch_size=4, resume=True, progress=False
    )
    assert more[-1]["step"] == 4

    monkeypatch.setattr(training, "autoencoder_loss", lambda *a, **k: torch.tensor(float("nan")))
    with pytest.raises(RuntimeError, match="loss is nan"):
        train_autoencoder(ae, data, tmp_path / "nan", steps=4, batch_size=4, progress=False)
    assert not (tmp_path / "nan" / "config.json").exists()
