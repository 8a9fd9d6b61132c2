"""JPEG deblocking before upscaling: the table read from the file, the projection kept within what
the file recorded, and the `--degradation` switch of the command line and the batch job."""

import io

import numpy as np
import pytest
from PIL import Image

from affine_sr.cli import main
from affine_sr.data import heldout_images
from affine_sr.deblock import _DCT, _LUMA, deblock, ijg_table, luminance_table
from affine_sr.degradations import bicubic_downscale, jpeg
from affine_sr.pipeline import jpeg_table_for, upscale_files, upscale_image


@pytest.fixture(scope="module")
def low_res():
    """A held-out photograph's ×4 reduction, 128 × 128."""
    return bicubic_downscale(heldout_images()["camera"][:512, :512], 4)


def luma_psnr(a, b):
    error = (a.astype(float) @ _LUMA - b.astype(float) @ _LUMA) ** 2
    return 10 * np.log10(255**2 / error.mean())


def test_the_tables_are_libjpeg_s():
    assert (ijg_table(50)[0] == [16, 11, 10, 16, 24, 40, 51, 61]).all()
    assert (ijg_table(100) == 1).all() and ijg_table(1).max() == 255
    with pytest.raises(ValueError, match="1..100"):
        ijg_table(0)


def test_the_table_is_read_from_a_jpeg_file_only(tmp_path, low_res):
    Image.fromarray(low_res).save(tmp_path / "a.jpg", quality=70)
    Image.fromarray(low_res).save(tmp_path / "a.png")
    (tmp_path / "b.jpg").write_bytes(b"not a picture")
    assert (luminance_table(tmp_path / "a.jpg") == ijg_table(70)).all()
    assert luminance_table(tmp_path / "a.png") is None
    assert luminance_table(tmp_path / "b.jpg") is None
    assert jpeg_table_for(tmp_path / "a.jpg", "clean") is None
    assert (jpeg_table_for(tmp_path / "a.png", "real") == ijg_table(75)).all()
    assert jpeg_table_for(tmp_path / "a.png", "auto") is None


@pytest.mark.parametrize("quality", [30, 70])
def test_deblocking_brings_the_luma_closer_and_keeps_to_the_file(low_res, quality):
    decoded = jpeg(low_res, quality)
    out = deblock(decoded, ijg_table(quality))
    assert out.shape == decoded.shape and out.dtype == np.uint8
    assert luma_psnr(out, low_res) > luma_psnr(decoded, low_res) + 0.1
    # every block's luma coefficients stay within the steps the file recorded (up to rounding)
    steps = np.tile(ijg_table(quality), (16, 16))

    def coefficients(image):
        blocks = (image.astype(float) @ _LUMA - 128).reshape(16, 8, 16, 8)
        return np.einsum("ij,ajbk,lk->aibl", _DCT, blocks, _DCT).reshape(128, 128)

    recorded = np.round(coefficients(decoded) / steps)
    assert np.abs(coefficients(out) - recorded * steps).max() <= steps.max() / 2 + 4


def test_deblock_refuses_what_it_cannot_take(low_res):
    with pytest.raises(ValueError, match="8×8"):
        deblock(low_res, np.ones((4, 4)))
    with pytest.raises(ValueError, match="RGB"):
        deblock(low_res[..., 0], ijg_table(70))
    odd = jpeg(low_res[:13, :21], 50)  # no whole block: only smoothed
    assert deblock(odd, ijg_table(50)).shape == odd.shape


def test_upscale_deblocks_jpeg_files_under_auto_only(tmp_path, tiny_model, low_res):
    small = low_res[:24, :32]
    buffer = io.BytesIO()
    Image.fromarray(small).save(buffer, "JPEG", quality=40)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jpg").write_bytes(buffer.getvalue())
    decoded = np.asarray(Image.open(tmp_path / "in" / "a.jpg").convert("RGB"))
    outputs = {}
    for degradation in ("auto", "clean"):
        out = tmp_path / degradation
        upscale_files(tiny_model, [tmp_path / "in"], out, progress=False, degradation=degradation)
        outputs[degradation] = np.asarray(Image.open(out / "a.png"))
    expected = upscale_image(tiny_model, decoded, jpeg_table=ijg_table(40))
    assert np.array_equal(outputs["auto"], expected)
    assert np.array_equal(outputs["clean"], upscale_image(tiny_model, decoded))
    assert not np.array_equal(outputs["auto"], outputs["clean"])
    with pytest.raises(ValueError, match="degradation"):
        upscale_files(tiny_model, [tmp_path / "in"], tmp_path / "x", degradation="jpeg")


def test_the_command_line_takes_the_switch_and_refuses_a_rerun_with_another(
    tmp_path, tiny_model_dir, low_res, capsys
):
    Image.fromarray(low_res[:16, :16]).save(tmp_path / "a.jpg", quality=50)
    args = [str(tmp_path / "a.jpg"), "--out", str(tmp_path / "out"), "--model",
            str(tiny_model_dir), "-q"]  # fmt: skip
    assert main(["upscale", *args]) == 0
    assert main(["upscale", *args, "--degradation", "clean"]) != 0
    assert "overwrite" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["upscale", *args, "--degradation", "jpeg"])
