import numpy as np
import pytest

from seed_gan.synth import CLASSES, draw_seed, write_dataset


def test_each_class_draws_a_distinct_kind_of_seed():
    rng = np.random.default_rng(0)
    means = {}
    for label in CLASSES:
        images = np.stack([draw_seed(label, rng, 48) for _ in range(20)])
        assert images.shape == (20, 48, 48, 3) and images.dtype == np.uint8
        means[label] = images.reshape(20, -1, 3).mean(axis=1).mean(axis=0)
    # broken kernels show white starch; discoloured ones are darker and browner than pure ones
    assert means["broken"][2] > means["pure"][2]
    assert means["discolored"].sum() < means["pure"].sum()
    with pytest.raises(ValueError, match="label"):
        draw_seed("mouldy", rng)


def test_dataset_follows_the_published_class_mix(tmp_path):
    counts = write_dataset(tmp_path, total=40, seed=0, size=32)
    assert counts == {"pure": 16, "broken": 13, "discolored": 7, "silkcut": 4}
    for label, n in counts.items():
        assert len(list((tmp_path / label).glob("*.png"))) == n
