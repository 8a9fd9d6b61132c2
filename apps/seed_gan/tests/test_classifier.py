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
