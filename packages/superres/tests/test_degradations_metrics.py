import cv2
import numpy as np
import pytest
from skimage import data

from affine_sr.degradations import bicubic_downscale, bicubic_upscale, degrade, jpeg
from affine_sr.evaluate import LR_KINDS, low_resolution
from affine_sr.metrics import gmsd, niqe, psnr, ssim
from affine_sr.niqe import fit_pristine


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


def test_jpeg_round_trip_keeps_colours_and_loses_detail():
    hr = data.astronaut()[:128, :128]
    high, low = jpeg(hr, 95), jpeg(hr, 30)
    assert high.shape == hr.shape and high.dtype == np.uint8
    assert psnr(high, hr, y_channel=False) > psnr(low, hr, y_channel=False) + 5
    # the chroma is subsampled on the real colour channels: the mean colour survives
    assert np.abs(low.mean((0, 1)) - hr.mean((0, 1))).max() < 2


@pytest.mark.parametrize("kind", LR_KINDS)
def test_low_resolution_inputs_of_every_kind(kind):
    hr = data.astronaut()[:128, :128]
    lr = low_resolution(hr, 4, kind, np.random.default_rng(0))
    assert lr.shape == (32, 32, 3) and lr.dtype == np.uint8
    if kind == "jpeg":
        assert np.array_equal(lr, jpeg(bicubic_downscale(hr, 4), 70))
    with pytest.raises(ValueError, match="LR kind"):
        low_resolution(hr, 4, "nearest", np.random.default_rng(0))


def test_gmsd_is_zero_for_the_same_image_and_grows_with_damage():
    hr = data.astronaut()[:128, :128]
    blurred = cv2.GaussianBlur(hr, (0, 0), 1.0)
    assert gmsd(hr, hr) == pytest.approx(0, abs=1e-6)
    assert 0 < gmsd(blurred, hr) < gmsd(cv2.GaussianBlur(hr, (0, 0), 3.0), hr)


def test_niqe_ranks_sharp_photographs_above_blurred_and_upscaled_ones():
    photo = data.astronaut()
    upscaled = bicubic_upscale(bicubic_downscale(photo, 4), 4)
    assert niqe(photo) < niqe(cv2.GaussianBlur(photo, (0, 0), 2.0))
    assert niqe(photo) < niqe(upscaled)
    assert niqe(photo) == niqe(photo.copy())  # deterministic
    assert niqe(photo[..., 0]) > 0  # grey images too
    with pytest.raises(ValueError, match="at least"):
        niqe(photo[:50, :50])


def test_a_pristine_model_fitted_on_sharp_photographs_prefers_them():
    sharp = [data.grass(), data.gravel()]
    model = fit_pristine(sharp)
    assert len(model["mean"]) == 36 and model["patches"] > 36
    assert niqe(sharp[0], model) < niqe(cv2.GaussianBlur(sharp[0], (0, 0), 2.0), model)
    with pytest.raises(ValueError, match="36-dimensional"):
        fit_pristine([data.astronaut()[:256, :256]])  # four patches
    with pytest.raises(ValueError, match="no pristine"):
        fit_pristine([])


def test_niqe_and_jpeg_refuse_what_they_cannot_measure():
    photo = data.astronaut()[:128, :128]
    with pytest.raises(ValueError, match="uint8"):
        niqe(photo / 255.0)  # levels 0..1 would silently break the MSCN's +1
    with pytest.raises(ValueError, match="uint8"):
        niqe(np.dstack([photo, photo[..., :1]]))  # RGBA
    with pytest.raises(ValueError, match="RGB"):
        jpeg(photo[..., 0], 70)
    with pytest.raises(ValueError, match="1..100"):
        jpeg(photo, 0)
