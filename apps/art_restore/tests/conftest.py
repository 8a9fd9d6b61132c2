import numpy as np
import pytest
import torch

from affine_sr.autoencoder import CouplingAutoencoder
from affine_sr.model import AffineSR


@pytest.fixture(scope="session")
def tiny_restorer_dir(tmp_path_factory):
    """A randomly initialised restorer folder small enough for CPU tests."""
    torch.manual_seed(0)
    ae = CouplingAutoencoder(levels=3, steps=1, hidden=8, latent_channels=8)
    model = AffineSR.build(ae, widths=(8, 16), layers=1).with_full_code()
    with torch.no_grad():  # not the identity a fresh full-code prior starts from
        model.unet.conv_out.weight.normal_(0, 0.01)
    return model.save_pretrained(tmp_path_factory.mktemp("models") / "tiny")


@pytest.fixture
def artwork():
    from art_restore.artworks import brush_painting

    return brush_painting(np.random.default_rng(0), 96)
