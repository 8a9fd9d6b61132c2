import numpy as np
import pytest

from seed_gan.active import margin_uncertainty, select_batch
from seed_gan.augment import rare_class_quota
from seed_gan.data import seed_id, split_of
from seed_gan.grade import wilson_interval


def test_margin_uncertainty():
    probs = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [0.6, 0.3, 0.1]])
    assert np.allclose(margin_uncertainty(probs), [1.0, 0.0, 0.7])


def test_the_batch_is_uncertain_but_not_near_duplicates():
    rng = np.random.default_rng(0)
    # 40 near-copies of one very ambiguous image, and 4 other groups of slightly less ambiguous ones
    centres = rng.normal(0, 10, (5, 8))
    group = np.repeat(np.arange(5), [40, 10, 10, 10, 10])
    features = centres[group] + rng.normal(0, 0.01, (80, 8))
    p = np.where(group == 0, 0.5, 0.55)
    probs = np.stack([p, 1 - p], 1)
    chosen, clusters = select_batch(probs, features, budget=5, pool_factor=16)
    assert len(set(chosen.tolist())) == 5
    assert sorted(group[chosen].tolist()) == [0, 1, 2, 3, 4]  # one per group
    top_by_uncertainty = np.argsort(-margin_uncertainty(probs), kind="stable")[:5]
    assert set(group[top_by_uncertainty].tolist()) == {0}  # what uncertainty alone would pick
    assert len(select_batch(probs[:3], features[:3], budget=5)[0]) == 3
    with pytest.raises(ValueError, match="budget"):
        select_batch(probs, features, budget=0)


def test_generated_images_go_to_the_rarest_classes_first():
    assert rare_class_quota([100, 50, 20], 40) == [0, 5, 35]
    assert rare_class_quota([10, 10], 3) == [2, 1]
    assert sum(rare_class_quota([7266, 5670, 3115, 1751], 1000)) == 1000
    assert rare_class_quota([5, 1], 0) == [0, 0]


def test_both_views_of_a_kernel_share_an_id_and_a_split():
    assert seed_id("lot/k001_top.png") == seed_id("lot/k001_bottom.jpg") == "k001"
    assert seed_id("lot/_top.png") == "_top"
    assert all(split_of(f"k{i}_top.png") == split_of(f"k{i}_bottom.png") for i in range(50))


def test_wilson_interval():
    low, high = wilson_interval(81, 100, 0.95)  # textbook value: 0.7222 .. 0.8749
    assert abs(low - 0.7222) < 1e-3 and abs(high - 0.8749) < 1e-3
    assert wilson_interval(10, 10)[1] == 1.0 and wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(0, 0) == (0.0, 1.0)
