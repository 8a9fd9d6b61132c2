import pytest
import torch

from affine_sr.autoencoder import CouplingAutoencoder


def test_the_coupling_autoencoder_reconstructs_exactly():
    torch.manual_seed(0)
    ae = CouplingAutoencoder(levels=3, steps=1, hidden=16).eval()
    x = torch.rand(2, 3, 32, 48) * 2 - 1
    with torch.no_grad():
        latent, detail = ae.encode(x)
        assert latent.shape == (2, 4, 4, 6) and detail.shape == (2, 188, 4, 6)
        assert torch.allclose(ae.decode(latent, detail), x, atol=1e-4)
        assert ae.decode(latent).shape == x.shape  # the prior's path: detail taken as zero
    with pytest.raises(ValueError, match="multiples of 8"):
        ae.encode(torch.zeros(1, 3, 30, 32))


def test_save_and_load_round_trip(tmp_path):
    torch.manual_seed(0)
    ae = CouplingAutoencoder(levels=2, steps=1, hidden=8, latent_channels=3)
    ae.save_pretrained(tmp_path)
    again = CouplingAutoencoder.from_pretrained(tmp_path)
    x = torch.rand(1, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        assert torch.equal(ae.encode(x)[0], again.encode(x)[0])


def test_a_training_step_moves_information_into_the_latent():
    torch.manual_seed(0)
    ae = CouplingAutoencoder(levels=1, steps=2, hidden=16, latent_channels=4)
    x = torch.rand(8, 3, 16, 16) * 2 - 1
    optimizer = torch.optim.Adam(ae.parameters(), 3e-3)
    losses = []
    for _ in range(30):
        recon, detail = ae(x)
        loss = (recon - x).pow(2).mean() + 0.1 * detail.pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]
