"""Privacy for driving datasets: faces and licence plates found and replaced by inpainting.

The public names below are imported on first use, so that ``import anonymizer`` (and the command
line's ``--help``) loads neither OpenCV, onnxruntime nor torch.
"""

from app_toolkit.lazy import lazy_names

__version__ = "0.1.0"

_WHERE = {
    "Anonymizer": "anonymizer.pipeline",
    "AnonymizerConfig": "anonymizer.config",
    "Detection": "anonymizer.detections",
    "DetectorConfig": "anonymizer.config",
    "anonymize_files": "anonymizer.pipeline",
    "anonymize_image": "anonymizer.pipeline",
    "apply_reviews": "anonymizer.pipeline",
    "build_detectors": "anonymizer.detectors",
    "verify": "anonymizer.verify",
}

__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_names(__name__, _WHERE)

