import pytest
import torch

from affine_sr.autoencoder import CouplingAutoencoder
from affine_sr.model import AffineSR


def test_a_tiny_prior_runs_end_to_end_on_cpu(tiny_model):
    model = tiny_model
    lr = torch.rand(2, 3, 8, 8) * 2 - 1
    out = model.upscale(lr, scale=4, steps=3, generator=torch.Generator().manual_seed(0))
    assert out.shape == (2, 3, 32, 32) and out.abs().max() <= 1
    again = model.upscale(lr, scale=4, steps=3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out, again)  # seeded
    sharp = model.upscale(
        lr, scale=4, steps=3, fidelity=1.0, generator=torch.Generator().manual_seed(0)
    )
    assert not torch.allclose(sharp, out)  # the fidelity knob acts


def test_training_reaches_the_sft_layers(tiny_model):
    model = tiny_model.train()
    with torch.no_grad():  # move the SFT layers off identity, as training does
        for sft in model.sfts:
            sft.gamma.bias.fill_(0.1)
    hr = torch.rand(2, 3, 32, 32) * 2 - 1
    lr = torch.nn.functional.avg_pool2d(hr, 4)
    loss = model.training_loss(hr, lr, scale=4)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(s.gamma.weight.grad is not None for s in model.sfts)
    assert model.encoder.stem.weight.grad is not None
    assert all(p.grad is None for p in model.autoencoder.parameters())  # stage 2: frozen AE


def test_save_and_load_round_trip(tmp_path, tiny_model):
    model = tiny_model
    with torch.no_grad():
        for sft in model.sfts:
            sft.beta.bias.normal_()
    model.save_pretrained(tmp_path / "sr")
    again = type(model).from_pretrained(tmp_path / "sr")
    lr = torch.rand(1, 3, 8, 8) * 2 - 1
    run = dict(scale=4, steps=2)
    first = model.upscale(lr, **run, generator=torch.Generator().manual_seed(1))
    second = again.upscale(lr, **run, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(first, second, atol=1e-5)


def test_every_prediction_type_trains_and_mismatched_parts_are_refused(tiny_model):
    hr = torch.rand(2, 3, 32, 32) * 2 - 1
    lr = torch.nn.functional.avg_pool2d(hr, 4)
    for kind in ("epsilon", "v_prediction", "sample"):
        tiny_model.scheduler.register_to_config(prediction_type=kind)
        assert torch.isfinite(tiny_model.training_loss(hr, lr, scale=4))
    with pytest.raises(ValueError, match="latent has 16"):
        AffineSR(
            CouplingAutoencoder(levels=3, steps=1, hidden=8, latent_channels=16),
            tiny_model.unet,
            tiny_model.encoder,
            tiny_model.scheduler,
        )


def test_build_gives_a_residual_v_prediction_prior_sized_to_the_latent():
    ae = CouplingAutoencoder(levels=3, steps=1, hidden=8, latent_channels=16)
    model = AffineSR.build(ae, widths=(16, 32), layers=1)
    assert model.scheduler.config.prediction_type == "v_prediction" and model.residual
    assert model.unet.config.in_channels == 16 + 192 and model.encoder.in_channels == 16
    trainable = {id(p) for p in model.trainable_parameters()}
    assert not any(id(p) in trainable for p in ae.parameters())
    assert all(id(p) in trainable for p in model.unet.parameters())
    out = model.eval().upscale(torch.zeros(1, 3, 8, 8), scale=4, steps=1)
    assert out.shape == (1, 3, 32, 32)


def test_an_external_prior_is_frozen_and_referred_to(tmp_path, tiny_model):
    tiny_model.unet.save_pretrained(tmp_path / "sd" / "unet")
    model = AffineSR.build(tiny_model.autoencoder, prior=tmp_path / "sd" / "unet")
    assert not model.residual  # a frozen image prior generates HR latents
    assert not any(p.requires_grad for p in model.unet.parameters())
    assert model.trainable_parameters()  # encoder and SFT still learn
    model.save_pretrained(tmp_path / "run")
    assert not (tmp_path / "run" / "unet").exists()  # not copied
    again = AffineSR.from_pretrained(tmp_path / "run")
    assert again.prior == str(tmp_path / "sd" / "unet")
    with pytest.raises(ValueError, match="not a diffusers UNet folder"):
        AffineSR.from_pretrained(tmp_path / "run", prior=str(tmp_path / "nowhere"))


def test_an_untrained_residual_prior_returns_the_input_structure():
    # with a zero residual the output decodes the LR latent: bicubic quality, not noise
    ae = CouplingAutoencoder(levels=3, steps=1, hidden=8, latent_channels=16)
    model = AffineSR.build(ae, widths=(16, 32), layers=1).eval()
    model.residual_scale = 1e6  # any generated residual vanishes
    lr = torch.rand(1, 3, 8, 8) * 2 - 1
    up = torch.nn.functional.interpolate(lr, scale_factor=4, mode="bicubic").clamp(-1, 1)
    out = model.upscale(lr, scale=4, steps=2, fidelity=1.0)
    assert torch.allclose(out, up, atol=1e-3)


def test_a_frozen_text_conditioned_prior_takes_prompt_embeddings_from_a_file(tmp_path):
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file

    from affine_sr.cli import main

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=4,
        in_channels=4,
        out_channels=4,
        block_out_channels=(16, 32),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        layers_per_block=1,
        norm_num_groups=8,
        cross_attention_dim=8,
        attention_head_dim=4,
    )
    unet.save_pretrained(tmp_path / "sd" / "unet")
    ae = CouplingAutoencoder(levels=3, steps=1, hidden=8)
    with pytest.raises(ValueError, match="prompt embeddings"):
        AffineSR.build(ae, prior=tmp_path / "sd" / "unet")
    embeds = torch.randn(1, 3, 8)
    model = AffineSR.build(ae, prior=tmp_path / "sd" / "unet", prompt_embeds=embeds).eval()
    assert model.upscale(torch.zeros(1, 3, 8, 8), scale=4, steps=2).shape == (1, 3, 32, 32)

    # the same from the command line: SD-sized latent (4 channels), embeddings from a file
    save_file({"prompt_embeds": embeds}, tmp_path / "empty.safetensors")
    run = ["train", "--out", str(tmp_path / "run"), "--textures", "2", "--crop", "32"]
    run += ["--batch-size", "2", "--ae-hidden", "8", "--ae-steps-per-level", "1", "-q"]
    run += [
        "--latent-channels",
        "4",
        "--ae-steps",
        "1",
        "--prior-steps",
        "1",
        "--refiner-steps",
        "0",
    ]
    run += ["--prior", str(tmp_path / "sd" / "unet")]
    assert main([*run, "--prompt-embeds", str(tmp_path / "empty.safetensors")]) == 0
    assert not (tmp_path / "run" / "model" / "unet").exists()  # referred to, not copied
    loaded = AffineSR.from_pretrained(tmp_path / "run" / "model")
    assert torch.equal(loaded.prompt_embeds, embeds)


def test_a_full_code_copy_keeps_the_weights_and_starts_from_the_input(tmp_path):
    ae = CouplingAutoencoder(levels=3, steps=1, hidden=8, latent_channels=16)
    torch.manual_seed(0)
    model = AffineSR.build(ae, widths=(16, 32), layers=1).eval()
    full = model.with_full_code()
    assert full.full_code and full.unet.config.in_channels == 2 * 192
    assert full.unet.config.out_channels == 192
    lr_code = model._encode(torch.rand(2, 3, 32, 32) * 2 - 1)
    z, t = torch.randn(2, 16, 4, 4), torch.tensor([999, 500])
    with torch.no_grad():
        full.unet.conv_out.weight.copy_(torch.randn_like(full.unet.conv_out.weight))
        full.unet.conv_out.weight[:16] = model.unet.conv_out.weight
        full.unet.conv_out.bias[:16] = model.unet.conv_out.bias
        before = model._denoise(z, t, lr_code)
        after = full._denoise(torch.cat([z, torch.randn(2, 176, 4, 4)], 1), t, lr_code)
    assert torch.allclose(after[:, :16], before, atol=1e-5)  # the same inner weights
    image = torch.rand(1, 3, 32, 32) * 2 - 1
    fresh = model.with_full_code().eval()  # a zero residual: the input comes back
    assert torch.allclose(fresh.upscale(image, scale=1, steps=1, fidelity=0.0), image, atol=1e-4)
    full.save_pretrained(tmp_path / "full")
    assert AffineSR.from_pretrained(tmp_path / "full").full_code
    with pytest.raises(ValueError, match="full-code"):
        full.with_full_code()


def test_a_full_code_prior_changes_the_detail_and_learns_from_pixels():
    ae = CouplingAutoencoder(levels=3, steps=1, hidden=8, latent_channels=16)
    torch.manual_seed(0)
    full = AffineSR.build(ae, widths=(16, 32), layers=1).with_full_code().eval()
    image = torch.rand(1, 3, 32, 32) * 2 - 1
    code = full._encode(image)
    residual = torch.randn(1, 192, 4, 4)  # what a prior generated
    with torch.no_grad():
        kept, generated = (full._decode(residual, code, f) for f in (1.0, 0.0))
        assert torch.allclose(ae.encode(kept)[1], code[1], atol=1e-4)  # fidelity 1: the input's
        assert not torch.allclose(ae.encode(generated)[1], code[1], atol=1e-2)
    hr = torch.rand(2, 3, 32, 32) * 2 - 1
    lr = hr + 0.1 * torch.randn_like(hr)
    torch.manual_seed(1)
    plain = full.training_loss(hr, lr, scale=1)
    torch.manual_seed(1)
    with_pixels = full.training_loss(hr, lr, scale=1, pixel_weight=1.0)
    assert with_pixels > plain  # the same draw plus a pixel MSE
    assert torch.isfinite(full.training_loss(hr, lr, scale=1, last_step_share=1.0))
    with_pixels.backward()
    assert full.unet.conv_out.weight.grad[16:].abs().sum() > 0  # the detail outputs learn
