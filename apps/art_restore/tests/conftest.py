import numpy as np
import pytest
import torch

from art_restore.residual import ResidualRestorer


@pytest.fixture(scope="session")
def tiny_restorer_dir(tmp_path_factory):
    """A randomly initialised residual restorer folder, small enough for CPU tests, whose
    correction is not zero (an untrained restorer returns its input exactly)."""
    torch.manual_seed(0)
    model = ResidualRestorer(widths=(8, 16))
    with torch.no_grad():
        model.correction.weight.normal_(0, 0.05)
    return model.save_pretrained(tmp_path_factory.mktemp("models") / "tiny")


@pytest.fixture
def artwork():
    from art_restore.artworks import brush_painting

    return brush_painting(np.random.default_rng(0), 96)
