"""Privacy for driving datasets: faces and licence plates found and replaced by inpainting."""

__version__ = "0.1.0"

from anonymizer.detections import Detection  # noqa: E402
from anonymizer.detectors import DetectorConfig, build_detectors  # noqa: E402
from anonymizer.pipeline import (  # noqa: E402
    Anonymizer,
    AnonymizerConfig,
    anonymize_files,
    anonymize_image,
    apply_reviews,
)
from anonymizer.verify import verify  # noqa: E402

__all__ = [
    "Anonymizer",
    "AnonymizerConfig",
    "Detection",
    "DetectorConfig",
    "anonymize_files",
    "anonymize_image",
    "apply_reviews",
    "build_detectors",
    "verify",
]
