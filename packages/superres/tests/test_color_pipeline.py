import numpy as np
import pytest
import torch

from affine_sr.color import adain, color_fix, wavelet
from affine_sr.pipeline import upscale_files, upscale_image


def test_adain_takes_the_reference_statistics():
    torch.manual_seed(0)
    image, reference = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32) * 0.3 + 0.5
    fixed = adain(image, reference)
    assert torch.allclose(fixed.mean((-2, -1)), reference.mean((-2, -1)), atol=1e-5)
    assert torch.allclose(fixed.std((-2, -1)), reference.std((-2, -1)), atol=1e-4)


def test_wavelet_keeps_detail_and_takes_low_frequencies():
    torch.manual_seed(0)
    detail = torch.rand(1, 3, 64, 64) - 0.5
    shifted = detail + torch.tensor([0.4, -0.2, 0.1])[None, :, None, None]  # a colour cast
    reference = torch.zeros(1, 3, 64, 64)
    fixed = wavelet(shifted, reference)
    assert fixed.mean((-2, -1)).abs().max() < 0.02  # the cast is gone
    assert torch.allclose(fixed - fixed.mean(), detail - detail.mean(), atol=0.25)
    assert color_fix(shifted, reference, "none") is shifted
    with pytest.raises(ValueError, match="colour fix"):
        color_fix(shifted, reference, "histogram")


def test_upscale_image_any_size_tiled_seeded(tiny_model):
    image = np.random.default_rng(0).integers(0, 256, (13, 19, 3), dtype=np.uint8)
    before = image.copy()
    run = dict(scale=4, steps=2, tile=8, overlap=2)
    out = upscale_image(tiny_model, image, **run)
    assert out.shape == (52, 76, 3) and out.dtype == np.uint8
    assert np.array_equal(out, upscale_image(tiny_model, image, **run))  # seeded
    assert not np.array_equal(out, upscale_image(tiny_model, image, **run, seed=1))
    assert np.array_equal(image, before)  # input untouched
    assert upscale_image(tiny_model, image, scale=2, steps=1, tile=0).shape == (26, 38, 3)
    with pytest.raises(ValueError, match="RGB"):
        upscale_image(tiny_model, image[..., 0])


def test_a_batch_resumes_and_lists_what_it_could_not_read(tmp_path, tiny_model):
    from app_toolkit.media import write_image

    src = tmp_path / "in"
    write_image(src / "a.png", np.full((8, 8, 3), 100, np.uint8))
    write_image(src / "sub" / "b.jpg", np.full((10, 6, 3), 50, np.uint8))
    (src / "notes.txt").write_text("not an image")
    (src / "broken.png").write_bytes(b"\x89PNG garbage")
    report = upscale_files(tiny_model, [src], tmp_path / "out", progress=False, steps=1)
    assert sorted(report["written"]) == [
        str(tmp_path / "out" / "a.png"),
        str(tmp_path / "out" / "sub" / "b.png"),
    ]
    assert len(report["failed"]) == 2
    again = upscale_files(tiny_model, [src], tmp_path / "out", progress=False, steps=1)
    assert again["written"] == [] and len(again["skipped"]) == 2
    # other options (or another model) into the same folder: refused, then redone on request
    with pytest.raises(ValueError, match="other settings \\(steps\\)"):
        upscale_files(tiny_model, [src], tmp_path / "out", progress=False, steps=2)
    redo = upscale_files(tiny_model, [src], tmp_path / "out", True, progress=False, steps=2)
    assert len(redo["written"]) == 2
    # a changed input is redone, an unchanged one skipped
    write_image(src / "a.png", np.full((8, 8, 3), 90, np.uint8))
    third = upscale_files(tiny_model, [src], tmp_path / "out", progress=False, steps=2)
    assert third["written"] == [str(tmp_path / "out" / "a.png")] and len(third["skipped"]) == 1
