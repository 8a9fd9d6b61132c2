import torch

from affine_sr.conditioning import SFT, TimeAwareEncoder


def test_encoder_features_depend_on_the_timestep_and_sft_starts_as_identity():
    torch.manual_seed(0)
    encoder = TimeAwareEncoder(in_channels=4, channels=(16, 32), time_dim=32).eval()
    latent = torch.randn(2, 4, 8, 8)
    early = encoder(latent, torch.tensor([10, 10]))
    late = encoder(latent, torch.tensor([900, 900]))
    assert [f.shape[1:] for f in early] == [(16, 8, 8), (32, 4, 4)]
    assert not torch.allclose(early[0], late[0])

    sft = SFT(channels=24, cond_channels=16)
    h = torch.randn(2, 24, 8, 8)
    assert torch.equal(sft(h, early[0]), h)  # zero-initialised: a frozen prior is unchanged
    with torch.no_grad():
        sft.gamma.bias.fill_(0.5)
    assert torch.allclose(sft(h, early[0]), 1.5 * h)
