"""Choices the command line offers, kept apart from the modules that use them so that
``seed-gan --help`` parses without importing torch. The same names are importable from
:mod:`seed_gan.classifier` and :mod:`seed_gan.bench`."""

__all__ = ["ARCHITECTURES", "RECIPES"]

# torchvision classifiers :func:`seed_gan.classifier.build_classifier` builds
ARCHITECTURES = (
    "resnet18",
    "resnet34",
    "mobilenet_v3_small",
    "shufflenet_v2_x0_5",
    "shufflenet_v2_x1_0",
    "efficientnet_b0",
)

# recipe id -> what it trains on, in :func:`seed_gan.bench.bench`
RECIPES = {
    "real": "real images",
    "weighted": "real images, class-weighted loss",
    "classic": "real images, colour jitter and mixup",
    "augmented": "real + filtered generated images for rare classes",
    "augmented-weighted": "the same, class-weighted loss",
    "gan-only": "generated images only",
}
