"""Recipe for art_restore's damage detector (``pretrained/default/detector.json``).

Crops of the built-in training images (sample photographs and their painted versions, the
held-out photographs excluded, and procedural brush paintings), clean under exposure, gamma and
contrast changes of every tone profile, and damaged by each kind at random severities; a
multi-label perceptron on :func:`art_restore.detect.damage_features`, each kind's threshold set
above (nearly) every clean crop as scored by a model that never saw its source image, so that a
clean image is left untouched. Then the detection rates on the held-out artworks and photographs
(256-px crops, severity 0.5) are printed and written to ``detector.md`` beside the detector.
About ten minutes on two CPU cores (eight of them measuring the statistics):

    .venv/bin/python tools/train_damage_detector.py
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from affine_sr.data import HELD_OUT, REGISTRY_PHOTOS, heldout_images, sample_images
from art_restore.artworks import artworks
from art_restore.degrade import DEGRADATIONS, apply
from art_restore.detect import FEATURES, DamageDetector, centre, damage_features

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "apps" / "art_restore" / "src" / "art_restore" / "pretrained" / "default"


CARD = """# art-restore damage detector

`detector.json` decides, per image, which kinds of damage are present and so which expert of
`art_restore.experts.restore_guarded` runs; an image with none is returned exactly as it came.
A perceptron ({members} perceptrons of {hidden} hidden units each, averaged in logits into one of
{total} hidden units; one logistic output per kind) on {features} measured statistics
(`art_restore.detect.FEATURES`), fitted on {crops:,} crops of the built-in training images
({clean:,} of them clean, under exposure, gamma, contrast and saturation changes, one in eight
grey; the others each
damaged by one kind at a random severity in [0.2, 1]). Each kind's threshold is the {quantile}
quantile of its probability over the clean crops, each scored by a model fitted without that
crop's source image.

Held-out check (`tools/train_damage_detector.py`; {images} images: the painted held-out
artworks and 256-px centre crops of the held-out photographs, severity 0.5):

- clean images flagged: {flagged}
- damaged images found, by kind: {rates}

Limits: kinds it misses are left unrepaired rather than risked; dullness is not decided by it
(its threshold finds none) but by how far the image's colours stop short of the gamut
(`art_restore.experts.remove_dullness`); water stains are tried also where its probability is
0.5 or more, and divided out only where the stain model finds a tide line (a clean image
reported as stained is otherwise left as it came); it has seen only the damage generator's
kinds, one at a time.

Recipe: `.venv/bin/python tools/train_damage_detector.py` (about ten minutes on two CPU threads).
"""


def random_crop(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = image.shape[:2]
    side = int(min(h, w, rng.choice([128, 192, 256, 384, 512])))
    y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
    return image[y : y + side, x : x + side]


def retone(image: np.ndarray, rng: np.random.Generator, grey: float = 0.125) -> np.ndarray:
    """A clean image of another tone profile: exposure, gamma, contrast, saturation, high key;
    with probability ``grey``, without colour (0 draws the same numbers as before this option)."""
    x = image.astype(np.float32) / 255
    x = x ** rng.uniform(0.5, 2.2)  # gamma: dark, low-key ... bright, high-key
    x = x * rng.uniform(0.6, 1.3)  # exposure
    mean = x.mean()
    x = mean + (x - mean) * rng.uniform(0.85, 1.5)  # contrast
    mean_rgb = x.mean(-1, keepdims=True)
    # saturation; some grey (black-and-white photographs of works)
    colour = 0.0 if grey and rng.random() < grey else rng.uniform(0.7, 1.6)
    x = mean_rgb + (x - mean_rgb) * colour
    if rng.random() < 0.3:  # high key: blacks lifted towards white (a neutral veil is no fade)
        lift = rng.uniform(0.1, 0.35)
        x = lift + (1 - lift) * x
    return (np.clip(x, 0, 1) * 255).round().astype(np.uint8)


def training_images(seed: int) -> dict[str, np.ndarray]:
    held = set(HELD_OUT) | set(REGISTRY_PHOTOS)
    photos = {n: im for n, im in sample_images().items() if n not in held}
    painted = {
        f"painted_{n}": im for n, im in artworks(held_out=False, paintings=8, seed=seed).items()
    }
    return {**photos, **painted}


def collect(images, crops_per_image, rng):
    """Features, labels (index of the kind, -1 for clean) and groups (index of the source image)
    of every crop."""
    features, labels, groups = [], [], []
    for g, name in enumerate(tqdm(images, desc="features")):
        for _ in range(crops_per_image):
            crop = random_crop(images[name], rng)
            for clean in (crop, retone(crop, rng), retone(crop, rng)):
                features.append(damage_features(clean))
                labels.append(-1)
            for k, kind in enumerate(DEGRADATIONS):
                base = retone(crop, rng) if rng.random() < 0.3 else crop
                damaged = apply(base, kind, float(rng.uniform(0.2, 1.0)), rng)
                features.append(damage_features(damaged))
                labels.append(k)
        groups += [g] * (len(labels) - len(groups))
    return np.stack(features), np.array(labels), np.array(groups)


def fit(features, labels, groups, hidden: int, quantile: float, seed: int,
        folds: int = 4, members: int = 5) -> DamageDetector:  # fmt: skip
    """A multi-label perceptron fitted on every crop (``members`` of them from different starts,
    averaged in logits: one refit to the next moves fewer decisions). Each kind's threshold is the ``quantile``
    of its probability over the clean crops, each scored by a model fitted without its source
    image (``folds``-fold cross-validation by image; kinds that need their own evidence gated as
    in use), and at least one half."""
    from sklearn.neural_network import MLPClassifier

    kinds = list(DEGRADATIONS)
    targets = np.zeros((len(labels), len(kinds)), int)
    damaged = labels >= 0
    targets[damaged, labels[damaged]] = 1
    mean, scale = features.mean(0), features.std(0) + 1e-6
    z = (features - mean) / scale

    def detector(rows, thresholds):
        # an ensemble averaged in logits is one perceptron with every member's hidden units
        # side by side and their output weights averaged: same file format, steadier decisions
        models = [
            MLPClassifier((hidden,), alpha=1e-2, max_iter=1500, random_state=seed + m).fit(
                z[rows], targets[rows]
            )
            for m in range(members)
        ]
        weights = [
            np.hstack([m.coefs_[0] for m in models]),
            np.vstack([m.coefs_[1] for m in models]) / members,
        ]
        biases = [
            np.concatenate([m.intercepts_[0] for m in models]),
            np.mean([m.intercepts_[1] for m in models], axis=0),
        ]
        return DamageDetector(kinds, mean, scale, weights, biases, thresholds)

    fold = np.random.default_rng(seed).permutation(groups.max() + 1)[groups] % folds
    clean_probs = []
    for k in range(folds):
        held = (fold == k) & (labels == -1)
        clean_probs.append(detector(fold != k, np.ones(len(kinds))).probabilities(features[held]))
    thresholds = np.clip(np.quantile(np.concatenate(clean_probs), quantile, axis=0), 0.5, 1 - 1e-6)
    return detector(np.ones(len(labels), bool), thresholds)


def heldout_report(detector: DamageDetector, seed: int) -> dict:
    """Detection rates on 256-px crops of the held-out artworks and photographs."""
    images = {f"art_{n}": im for n, im in artworks(held_out=True).items()}
    images.update({f"photo_{n}": centre(im, 256) for n, im in heldout_images().items()})
    report = {"clean_flagged": {}, "detected": {k: 0 for k in DEGRADATIONS}, "images": len(images)}
    for j, (name, clean) in enumerate(images.items()):
        found = detector.detect(clean)
        if found:
            report["clean_flagged"][name] = found
        for kind in DEGRADATIONS:
            damaged = apply(clean, kind, 0.5, np.random.default_rng((seed, j)))
            report["detected"][kind] += kind in detector.detect(damaged)
    return report


def cached_collect(path, images, crops, rng):
    """:func:`collect`, or what an earlier run saved at ``path`` (an ``.npz``)."""
    if path and Path(path).is_file():
        data = np.load(path)
        if "names" not in data or list(data["names"]) != list(FEATURES):
            raise SystemExit(f"{path} holds other statistics than FEATURES: delete it")
        return data["features"], data["labels"], data["groups"]
    out = collect(images, crops, rng)
    if path:
        np.savez(path, features=out[0], labels=out[1], groups=out[2], names=np.array(FEATURES))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--crops", type=int, default=6, help="crops per training image")
    parser.add_argument("--hidden", type=int, default=128, help="hidden units of each member")
    parser.add_argument(
        "--members", type=int, default=5, help="perceptrons averaged (in logits) into one"
    )
    parser.add_argument(
        "--quantile", type=float, default=0.99, help="of clean crops' cross-validated probabilities"
    )
    parser.add_argument("--features", type=Path, help="cache of the features (.npz)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", type=Path, default=TARGET / "detector.json")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    features, labels, groups = cached_collect(
        args.features, training_images(args.seed), args.crops, rng
    )
    detector = fit(
        features, labels, groups, args.hidden, args.quantile, args.seed, members=args.members
    )
    detector.save(args.target)
    report = heldout_report(detector, args.seed)
    print(json.dumps(report, indent=1))
    rates = ", ".join(f"{k} {n}/{report['images']}" for k, n in report["detected"].items())
    flagged = "; ".join(f"{n}: {', '.join(kinds)}" for n, kinds in report["clean_flagged"].items())
    args.target.with_suffix(".md").write_text(CARD.format(
        crops=len(labels), clean=int((labels == -1).sum()), images=report["images"],
        rates=rates, flagged=flagged or "none", hidden=args.hidden, quantile=args.quantile,
        members=args.members, total=args.hidden * args.members,
        features=len(FEATURES),
    ))  # fmt: skip
    print(f"saved {args.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
