"""Privacy for driving datasets: faces and licence plates found and replaced by inpainting.

The public names below are imported on first use, so that ``import anonymizer`` (and the command
line's ``--help``) loads neither OpenCV, onnxruntime nor torch.
"""

import importlib

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


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'anonymizer' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_WHERE])
