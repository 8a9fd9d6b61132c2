import numpy as np
import pytest
from skimage import data

from affine_sr.degradations import bicubic_downscale, degrade
from affine_sr.metrics import psnr, ssim


def test_degradations_give_the_target_size_and_vary_with_the_seed():
    hr = data.astronaut()[:256, :256]
    lows = [degrade(hr, 4, np.random.default_rng(s)) for s in range(3)]
    assert all(lr.shape == (64, 64, 3) and lr.dtype == np.uint8 for lr in lows)
    assert not np.array_equal(lows[0], lows[1])
    assert np.array_equal(lows[0], degrade(hr, 4, np.random.default_rng(0)))
    assert bicubic_downscale(hr[:255], 4).shape == (63, 64, 3)
    with pytest.raises(ValueError, match="multiple"):
        degrade(hr[:250], 4, np.random.default_rng(0))


def test_psnr_and_ssim():
    a = data.astronaut()[:128, :128]
    assert psnr(a, a) == float("inf") and ssim(a, a) == pytest.approx(1.0)
    noisy = np.clip(a + np.random.default_rng(0).normal(0, 5, a.shape), 0, 255).astype(np.uint8)
    # σ = 5 noise on RGB: PSNR about 20·log10(255/5) = 34.2 dB
    assert psnr(noisy, a, y_channel=False) == pytest.approx(34.2, abs=0.5)
    assert psnr(noisy, a) > psnr(noisy, a, y_channel=False)  # Y averages the channels' noise
    assert 0.5 < ssim(noisy, a) < 1 and 0.5 < ssim(noisy, a, y_channel=False) < 1
    with pytest.raises(ValueError, match="differ"):
        psnr(a, a[:64])
