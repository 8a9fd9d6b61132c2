"""The shipped models load, and the classifier's model card matches a fresh evaluation."""

import re
from importlib import resources
from pathlib import Path

import torch

from seed_gan.classifier import evaluate, load_classifier, predict
from seed_gan.data import SeedImages
from seed_gan.gan import generate, load_generator
from seed_gan.synth import write_dataset

CARD = Path(str(resources.files("seed_gan") / "pretrained" / "classifier" / "MODEL_CARD.md"))


def test_classifier_card_matches_a_fresh_evaluation(tmp_path):
    card = CARD.read_text()
    total = int(re.search(r"synth DATA --total (\d+)", card).group(1))
    accuracy = float(re.search(r"accuracy \*\*([0-9.]+)\*\*", card).group(1))
    macro_f1 = float(re.search(r"macro-F1 \*\*([0-9.]+)\*\*", card).group(1))
    model = load_classifier("default")
    write_dataset(tmp_path, total=total, seed=0, size=model.size)
    result = evaluate(model, SeedImages(tmp_path, "test", model.size), model.classes)
    # one or two borderline kernels may flip with the BLAS build; the card's figures are rounded
    assert abs(result["accuracy"] - accuracy) < 0.006
    assert abs(result["macro_f1"] - macro_f1) < 0.01


def test_the_shipped_gan_draws_kernels_the_classifier_recognises():
    generator, classifier = load_generator("default"), load_classifier("default")
    assert generator.classes == classifier.classes and generator.size == classifier.size
    counts = dict.fromkeys(range(len(generator.classes)), 16)
    images, labels = generate(generator, counts, seed=0)
    assert images.shape == (64, 3, generator.size, generator.size)
    accuracy = (torch.from_numpy(predict(classifier, images).argmax(1)) == labels).float().mean()
    assert accuracy > 0.5  # chance is 0.25: the class conditioning carries each class's look
