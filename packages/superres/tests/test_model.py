import torch

from affine_sr.autoencoder import CouplingAutoencoder
from affine_sr.conditioning import TimeAwareEncoder
from affine_sr.model import AffineSR


def tiny_model() -> AffineSR:
    from diffusers import DDIMScheduler, UNet2DModel

    torch.manual_seed(0)
    unet = UNet2DModel(
        sample_size=4,
        in_channels=4,
        out_channels=4,
        block_out_channels=(16, 32),
        down_block_types=("DownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "UpBlock2D"),
        layers_per_block=1,
        norm_num_groups=8,
    )
    return AffineSR(
        CouplingAutoencoder(levels=3, steps=1, hidden=8),
        unet,
        TimeAwareEncoder(4, (16, 32), time_dim=32),
        DDIMScheduler(num_train_timesteps=100),
    )


def test_a_tiny_prior_runs_end_to_end_on_cpu():
    model = tiny_model().eval()
    lr = torch.rand(2, 3, 8, 8) * 2 - 1
    out = model.upscale(lr, scale=4, steps=3, generator=torch.Generator().manual_seed(0))
    assert out.shape == (2, 3, 32, 32) and out.abs().max() <= 1
    again = model.upscale(lr, scale=4, steps=3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out, again)  # seeded
    sharp = model.upscale(
        lr, scale=4, steps=3, fidelity=1.0, generator=torch.Generator().manual_seed(0)
    )
    assert not torch.allclose(sharp, out)  # the fidelity knob acts


def test_training_reaches_the_sft_layers():
    model = tiny_model()
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


def test_save_and_load_round_trip(tmp_path):
    model = tiny_model().eval()
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
