import gzip

import numpy as np
import pytest
import torch
from PIL import Image

from core_flows.data import dequantize, load_images, quantize_levels


def test_digits_and_lfw_are_bundled():
    digits = load_images("digits")
    assert digits.image_shape == (1, 8, 8) and digits.num_levels == 17
    assert len(digits.train) + len(digits.test) == 1797 and int(digits.train.max()) == 16
    lfw = load_images("lfw")
    assert lfw.image_shape == (1, 24, 24) and lfw.num_levels == 256
    assert len(lfw.train) + len(lfw.test) == 200


def test_split_is_reproducible_and_disjoint():
    a, b = load_images("digits", seed=3), load_images("digits", seed=3)
    assert torch.equal(a.test, b.test)
    assert not torch.equal(load_images("digits", seed=4).test, a.test)


def test_dequantize_and_requantize():
    x = torch.randint(0, 17, (100, 1, 8, 8), dtype=torch.uint8)
    u = dequantize(x, 17, torch.Generator().manual_seed(0))
    assert (u >= 0).all() and (u < 1).all()
    assert torch.equal(torch.floor(u * 17).to(torch.uint8), x)
    q = quantize_levels(torch.arange(256, dtype=torch.uint8), 256, 5)
    assert int(q.max()) == 31 and int(q.min()) == 0
    with pytest.raises(ValueError, match="levels"):
        quantize_levels(x, 17, 5)


def test_npz_loader(tmp_path):
    arr = np.random.default_rng(0).integers(0, 256, (20, 8, 8, 3), dtype=np.uint8)
    np.savez(tmp_path / "images.npz", x=arr)
    data = load_images(f"npz:{tmp_path / 'images.npz'}", test_fraction=0.25)
    assert data.image_shape == (3, 8, 8) and len(data.test) == 5
    np.save(tmp_path / "bad.npy", arr.astype(np.float32) * 9)
    with pytest.raises(ValueError, match="integer pixel values"):
        load_images(f"npz:{tmp_path / 'bad.npy'}")


def test_folder_loader_skips_corrupt_files(tmp_path, caplog):
    rng = np.random.default_rng(0)
    for i in range(6):
        sub = tmp_path / ("a" if i % 2 else "b")
        sub.mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)).save(sub / f"{i}.png")
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    data = load_images(f"folder:{tmp_path}", image_size=16, channels=1, test_fraction=0.2)
    assert data.image_shape == (1, 16, 16) and len(data.train) + len(data.test) == 6
    assert "skipped 1 unreadable" in caplog.text
    assert before == {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}  # inputs untouched


@pytest.mark.parametrize(
    "spec, message",
    [
        ("mnist:{tmp}", "MNIST/raw/train-images-idx3-ubyte"),
        ("cifar10:{tmp}", "cifar-10-batches-bin/data_batch_1.bin"),
        ("celeba:{tmp}", "img_align_celeba"),
        ("folder:{tmp}", "no images"),
        ("imagenet", "unknown dataset"),
    ],
)
def test_missing_local_data_names_the_expected_path(spec, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        load_images(spec.format(tmp=tmp_path))


def test_mnist_idx_files_are_read(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name, n in (("train-images-idx3-ubyte", 7), ("t10k-images-idx3-ubyte", 3)):
        header = np.array([2051, n, 28, 28], dtype=">i4").tobytes()
        pixels = np.arange(n * 28 * 28, dtype=np.uint8).tobytes()
        with gzip.open(raw / f"{name}.gz", "wb") as f:
            f.write(header + pixels)
    data = load_images(f"mnist:{tmp_path}")
    assert data.train.shape == (7, 1, 28, 28) and data.test.shape == (3, 1, 28, 28)
    assert int(data.train[0, 0, 0, 5]) == 5


def write_idx(path, n, magic=2051, extra=b"", cut=0):
    header = np.array([magic, n, 28, 28], dtype=">i4").tobytes()
    data = header + np.random.default_rng(n).integers(0, 256, n * 784, dtype=np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data[: len(data) - cut] + extra)


def test_mnist_without_test_files_holds_out_a_seeded_validation_split(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_idx(raw / "train-images-idx3-ubyte", 60)
    data = load_images(f"mnist:{tmp_path}")
    assert data.train.shape == (50, 1, 28, 28) and data.test.shape == (10, 1, 28, 28)
    assert data.test_source.startswith("validation split (10 training images, seed 0")
    again = load_images(f"mnist:{tmp_path}")
    assert torch.equal(again.test, data.test)
    train_rows = {bytes(x.numpy()) for x in data.train}
    assert not any(bytes(x.numpy()) in train_rows for x in data.test)  # disjoint
    assert not torch.equal(load_images(f"mnist:{tmp_path}", seed=1).test, data.test)
    # with the test files, the standard split
    write_idx(raw / "t10k-images-idx3-ubyte", 4)
    data = load_images(f"mnist:{tmp_path}")
    assert len(data.train) == 60 and len(data.test) == 4 and data.test_source == "test set"


@pytest.mark.parametrize(
    "damage, message",
    [
        ({"cut": 100}, "truncated or not an MNIST file"),
        ({"extra": b"xx"}, "truncated or not an MNIST file"),
        ({"magic": 2049}, "magic 2049, expected 2051"),
        ({"n": 0, "cut": 16}, "only 0 bytes"),
    ],
)
def test_bad_mnist_files_are_one_line_errors(tmp_path, damage, message):
    write_idx(tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte", **{"n": 5, **damage})
    with pytest.raises(ValueError, match=message):
        load_images(f"mnist:{tmp_path}")


def test_a_truncated_gzip_mnist_file_is_a_one_line_error(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_idx(tmp_path / "plain", 5)
    raw.mkdir(parents=True)
    with gzip.open(raw / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write((tmp_path / "plain").read_bytes())
    whole = (raw / "train-images-idx3-ubyte.gz").read_bytes()
    (raw / "train-images-idx3-ubyte.gz").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match="could not be read"):
        load_images(f"mnist:{tmp_path}")


def test_cifar10_binary_files_are_read(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        rng.integers(0, 256, (2, 3073), dtype=np.uint8).tofile(folder / name)
    data = load_images(f"cifar10:{tmp_path}")
    assert data.train.shape == (10, 3, 32, 32) and data.test.shape == (2, 3, 32, 32)


def test_folder_scales_16_bit_images_instead_of_clipping(tmp_path):
    from PIL import Image

    from core_flows.data import load_images

    ramp = (np.linspace(0, 65535, 32 * 32).reshape(32, 32)).astype(np.uint16)
    for k in range(4):  # 16-bit greyscale PNGs
        Image.fromarray(np.ascontiguousarray(np.rot90(ramp, k))).save(tmp_path / f"deep{k}.png")
    data = load_images(f"folder:{tmp_path}", image_size=32, channels=1)
    pixels = torch.cat([data.train, data.test]).float()
    assert pixels.max() == 255 and (pixels == 255).float().mean() < 0.05
