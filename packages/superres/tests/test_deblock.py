"""JPEG deblocking before upscaling: the table read from the file, the projection kept within what
the file recorded, and the `--degradation` switch of the command line and the batch job."""

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from affine_sr.cli import main
from affine_sr.data import heldout_images
from affine_sr.deblock import _LUMA, deblock, ijg_table, luminance_table, remove_noise
from affine_sr.degradations import bicubic_downscale, jpeg
from affine_sr.pipeline import jpeg_table_for, upscale_files, upscale_image


@pytest.fixture(scope="module")
def low_res():
    """A held-out photograph's ×4 reduction, 128 × 128."""
    return bicubic_downscale(heldout_images()["camera"][:512, :512], 4)


def luma_psnr(a, b):
    error = (a.astype(float) @ _LUMA - b.astype(float) @ _LUMA) ** 2
    return 10 * np.log10(255**2 / error.mean())


def test_the_tables_are_libjpeg_s(low_res):
    assert (ijg_table(50)[0] == [16, 11, 10, 16, 24, 40, 51, 61]).all()
    for quality in range(1, 101):  # Pillow's libjpeg writes the same tables
        buffer = io.BytesIO()
        Image.fromarray(low_res[:16, :16]).save(buffer, "JPEG", quality=quality)
        written = np.asarray(Image.open(buffer).quantization[0]).reshape(8, 8)
        assert (written == ijg_table(quality)).all(), quality
    with pytest.raises(ValueError, match="1..100"):
        ijg_table(0)


def test_the_table_is_read_from_an_upright_ycbcr_jpeg_file_only(tmp_path, low_res):
    Image.fromarray(low_res).save(tmp_path / "a.jpg", quality=70)
    Image.fromarray(low_res).save(tmp_path / "a.png")
    (tmp_path / "b.jpg").write_bytes(b"not a picture")
    Image.fromarray(low_res).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=70)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned: read upright, its blocks turned with it
    Image.fromarray(low_res).save(tmp_path / "turned.jpg", quality=70, exif=exif)
    assert (luminance_table(tmp_path / "a.jpg") == ijg_table(70)).all()
    for name in ("a.png", "b.jpg", "cmyk.jpg", "turned.jpg"):
        assert luminance_table(tmp_path / name) is None, name
    assert jpeg_table_for(tmp_path / "a.jpg", "clean") is None
    assert (jpeg_table_for(tmp_path / "a.png", "real") == ijg_table(75)).all()
    assert jpeg_table_for(tmp_path / "a.png", "auto") is None


@pytest.mark.parametrize("quality", [30, 70])
def test_deblocking_brings_the_luma_closer_and_keeps_to_the_file(low_res, quality):
    decoded = jpeg(low_res, quality)
    out = deblock(decoded, ijg_table(quality))
    assert out.shape == decoded.shape and out.dtype == np.uint8
    assert luma_psnr(out, low_res) > luma_psnr(decoded, low_res) + 0.1
    # every block's luma coefficients (OpenCV's DCT, in the table's natural order) stay within
    # the steps the file recorded, up to the rounding of the output
    steps = np.tile(ijg_table(quality), (16, 16))

    def coefficients(image):
        luma = (image.astype(np.float32) @ _LUMA.astype(np.float32) - 128).reshape(16, 8, 16, 8)
        blocks = [[cv2.dct(np.ascontiguousarray(luma[a, :, b])) for b in range(16)]
                  for a in range(16)]  # fmt: skip
        return np.array(blocks).transpose(0, 2, 1, 3).reshape(128, 128)

    def off_lattice(steps):
        ratio = coefficients(decoded) / steps
        return np.abs(ratio - np.round(ratio)).mean()

    # the decoded image's coefficients lie on the table's lattice, not on its transpose's
    assert off_lattice(steps) < 0.5 * off_lattice(np.tile(ijg_table(quality).T, (16, 16)))
    recorded = np.round(coefficients(decoded) / steps)
    assert (np.abs(coefficients(out) - recorded * steps) <= steps / 2 + 2).all()


def test_deblock_refuses_what_it_cannot_take(low_res):
    with pytest.raises(ValueError, match="8×8"):
        deblock(low_res, np.ones((4, 4)))
    with pytest.raises(ValueError, match="RGB"):
        deblock(low_res[..., 0], ijg_table(70))
    odd = jpeg(low_res[:13, :21], 50)  # no whole block: only smoothed
    assert deblock(odd, ijg_table(50)).shape == odd.shape


def test_noise_is_removed_as_strongly_as_it_is_measured(low_res):
    noisy = np.clip(low_res + np.random.default_rng(0).normal(0, 10, low_res.shape), 0, 255)
    noisy = noisy.round().astype(np.uint8)
    assert luma_psnr(remove_noise(noisy), low_res) > luma_psnr(noisy, low_res) + 1
    flat = np.full((16, 16, 3), 90, np.uint8)
    assert remove_noise(flat) is flat


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


def test_a_run_recorded_before_the_switch_resumes_where_it_changes_nothing(tmp_path, tiny_model):
    import json

    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "a.png")
    upscale_files(tiny_model, [tmp_path / "a.png"], tmp_path / "out", progress=False)
    record = tmp_path / "out" / "run-manifest.json"
    manifest = json.loads(record.read_text())
    del manifest["settings"]["degradation"]  # as written before the option existed
    record.write_text(json.dumps(manifest))
    report = upscale_files(
        tiny_model, [tmp_path / "a.png"], tmp_path / "out", progress=False, degradation="auto"
    )  # a folder without JPEG files: nothing changes, the run resumes
    assert report["skipped"] and not report["written"]
    with pytest.raises(ValueError, match="other settings"):  # real denoises every input
        upscale_files(
            tiny_model, [tmp_path / "a.png"], tmp_path / "out", progress=False, degradation="real"
        )


def test_adding_a_jpeg_to_the_inputs_keeps_the_run(tmp_path, tiny_model):
    (tmp_path / "in").mkdir()
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "in" / "a.png")
    options = {"progress": False, "degradation": "auto"}
    upscale_files(tiny_model, [tmp_path / "in"], tmp_path / "out", **options)
    Image.fromarray(np.full((16, 16, 3), 99, np.uint8)).save(tmp_path / "in" / "b.jpg")
    report = upscale_files(tiny_model, [tmp_path / "in"], tmp_path / "out", **options)
    assert len(report["skipped"]) == 1 and len(report["written"]) == 1


def test_a_jpeg_too_large_to_read_has_no_table(tmp_path, low_res, monkeypatch):
    Image.fromarray(low_res).save(tmp_path / "a.jpg", quality=70)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # Pillow refuses it as a bomb
    assert luminance_table(tmp_path / "a.jpg") is None


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
