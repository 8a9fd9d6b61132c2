import pytest
import torch

from affine_sr.autoencoder import CouplingAutoencoder
from affine_sr.conditioning import TimeAwareEncoder
from affine_sr.model import AffineSR


def build_tiny_model() -> AffineSR:
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


@pytest.fixture
def tiny_model() -> AffineSR:
    """A randomly initialised model small enough to sample on CPU in milliseconds."""
    return build_tiny_model().eval()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """The tiny model saved as a model folder, for the command line."""
    return build_tiny_model().save_pretrained(tmp_path_factory.mktemp("models") / "tiny")
