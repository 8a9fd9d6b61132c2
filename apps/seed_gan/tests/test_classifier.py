import numpy as np
import pytest
import torch

from seed_gan.classifier import build_classifier, evaluate, train_classifier
from seed_gan.data import SeedImages, split_of
from seed_gan.synth import write_dataset


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    root = tmp_path_factory.mktemp("seeds")
    counts = write_dataset(root, total=64, seed=0, size=32)
    (root / "pure" / "unreadable.png").write_bytes(b"not a png")
    return root, sum(counts.values())


def test_dataset_reads_classes_and_reports_unreadable_files(seeds):
    seeds, total = seeds
    data = SeedImages(seeds, size=32)
    assert data.classes == ["broken", "discolored", "pure", "silkcut"]
    assert len(data) == total and len(data.skipped) == 1 and "unreadable.png" in data.skipped[0]
    image, label = data[0]
    assert image.shape == (3, 32, 32) and -1 <= image.min() and image.max() <= 1
    assert split_of("a/b/seed_001.png") == split_of("elsewhere/seed_001.png")
    splits = [SeedImages(seeds, s, 32).labels.numel() for s in ("train", "val", "test")]
    assert sum(splits) == total and min(splits) > 0


def test_a_tiny_training_run_lowers_the_loss(seeds):
    data = SeedImages(seeds[0], size=32)
    model = build_classifier(len(data.classes), "resnet18")
    model, losses = train_classifier(model, data, epochs=4, batch_size=16, lr=3e-3, progress=False)
    assert losses[-1] < losses[0]
    result = evaluate(model, data, data.classes)
    assert 0 <= result["accuracy"] <= 1 and set(result["per_class"]) == set(data.classes)


def test_local_init_weights(tmp_path):
    from safetensors.torch import save_file

    source = build_classifier(4, "resnet18")
    save_file(source.state_dict(), tmp_path / "w.safetensors")
    model = build_classifier(3, "resnet18", tmp_path / "w.safetensors")
    assert torch.equal(model.conv1.weight, source.conv1.weight) and model.fc.out_features == 3
    with pytest.raises(ValueError, match="no such file"):
        build_classifier(3, "resnet18", tmp_path / "missing.pt")
    (tmp_path / "bad.pt").write_bytes(b"junk")
    with pytest.raises(ValueError, match="not resnet18 weights"):
        build_classifier(3, "resnet18", tmp_path / "bad.pt")


def test_keep_rare_keeps_n_images_of_each_rare_class_only(tmp_path):
    from seed_gan.data import SeedImages
    from seed_gan.synth import write_dataset

    write_dataset(tmp_path, total=120, seed=0, size=16)
    train = SeedImages(tmp_path, "train", 16)
    counts = train.class_counts()
    rare = train.rare_classes()
    assert rare and all(counts[c] < max(counts.values()) / 2 for c in rare)
    small = train.keep_rare(3, seed=1)
    for c, n in small.class_counts().items():
        assert n == (min(3, counts[c]) if c in rare else counts[c])
    assert len(small.paths) == len(small) and small.keep_rare(3, seed=1).class_counts() == (
        small.class_counts()
    )
    assert train.class_counts() == counts  # the original is untouched
    with pytest.raises(ValueError, match="rare-class count"):
        train.keep_rare(0)


def test_classic_augmentation_trains_and_bad_names_are_refused():
    import torch

    from seed_gan.classifier import SeedClassifier, train_classifier

    data = torch.utils.data.TensorDataset(torch.rand(16, 3, 16, 16) * 2 - 1, torch.arange(16) % 2)
    model = SeedClassifier(["a", "b"], "shufflenet_v2_x0_5", 16)
    _, losses = train_classifier(model, data, steps=2, batch_size=8, augmentation="classic",
                                 progress=False)  # fmt: skip
    assert all(np.isfinite(losses))
    with pytest.raises(ValueError, match="augmentation"):
        train_classifier(model, data, steps=1, augmentation="fancy", progress=False)


def test_generated_images_are_filtered_by_a_judge(tmp_path):
    import torch

    from seed_gan.augment import augment_with_gan
    from seed_gan.data import SeedImages
    from seed_gan.gan import Generator
    from seed_gan.synth import write_dataset

    write_dataset(tmp_path, total=60, seed=0, size=16)
    train = SeedImages(tmp_path, "train", 16)
    generator = Generator(len(train.classes), size=16, width=4, classes=train.classes)

    class Judge(torch.nn.Module):  # a classifier that gives every image one fixed class
        def __init__(self, index):
            super().__init__()
            self.index, self.w = index, torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            out = torch.full((len(x), len(train.classes)), -10.0)
            out[:, self.index] = 10.0
            return out + self.w

    rare = train.classes.index(train.rare_classes()[0])
    _, generated, acceptance = augment_with_gan(train, generator, 10, judge=Judge(rare))
    assert 0 < acceptance < 1 and set(c for c, n in generated.items() if n) == {train.classes[rare]}
    _, generated, acceptance = augment_with_gan(train, generator, 10)
    assert acceptance is None and sum(generated.values()) == 10
