"""What a run is asked to do, and the checks that need nothing heavy: the detector and
replacement choices, :class:`DetectorConfig` and :class:`AnonymizerConfig`.

Only the standard library is imported here, so that the command line parses, shows ``--help`` and
refuses bad options without loading torch, OpenCV or onnxruntime.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "DEFAULT_NEGATIVE",
    "DEFAULT_PROMPTS",
    "FACE_DETECTORS",
    "METHODS",
    "PLATE_DETECTORS",
    "REPORT_DIR",
    "AnonymizerConfig",
    "DetectorConfig",
    "check_sd_model",
    "check_weights",
]

FACE_DETECTORS = ("retinaface", "mtcnn")
PLATE_DETECTORS = ("clp", "cascade")
METHODS = ("cv-inpaint", "sd-inpaint", "blur", "pixelate", "solid")
DEFAULT_PROMPTS = {
    "face": "a photo of a person's face, natural skin, realistic, sharp focus",
    "plate": "a plain blank vehicle licence plate, realistic photo",
}
DEFAULT_NEGATIVE = "text, letters, watermark, cartoon, drawing, deformed, blurry"
REPORT_DIR = "_anonymize"
"""Folder for review files, previews and reports inside an output folder: never data."""


def check_weights(weights: str | os.PathLike, label: str) -> Path:
    """The weights file, checked to exist, before ultralytics is imported."""
    weights = Path(weights)
    if not weights.is_file():
        raise ValueError(f"--{label}-weights: no such file: {weights}")
    return weights


def check_sd_model(model: str | os.PathLike | None) -> Path:
    """The pipeline folder, checked to be one, before anything heavy is loaded."""
    if not model:
        raise ValueError(
            "method sd-inpaint needs --sd-model PATH: a local diffusers inpainting pipeline "
            "folder (nothing is downloaded); without one use --method cv-inpaint"
        )
    model = Path(model)
    if not model.is_dir():
        raise ValueError(f"--sd-model: no such folder: {model}")
    if not (model / "model_index.json").is_file():
        raise ValueError(
            f"--sd-model {model}: not a diffusers pipeline folder (no model_index.json); "
            "save one with pipeline.save_pretrained(PATH)"
        )
    return model


@dataclass
class DetectorConfig:
    """What to look for and how; the CLI's detection options map one to one onto these fields."""

    faces: bool = True
    plates: bool = True
    face_detector: str = "retinaface"
    plate_detector: str = "clp"
    face_threshold: float = 0.9
    plate_threshold: float = 0.7
    plate_neighbors: int = 3
    plate_max_width: float = 0.25
    min_size: int = 8
    face_weights: str | None = None
    plate_weights: str | None = None
    device: str = "auto"

    def __post_init__(self):
        if not (self.faces or self.plates):
            raise ValueError("nothing to detect: enable faces, plates or both")
        if self.face_detector not in FACE_DETECTORS:
            raise ValueError(
                f"face detector must be one of {FACE_DETECTORS}, got {self.face_detector!r}"
            )
        if self.plate_detector not in PLATE_DETECTORS:
            raise ValueError(
                f"plate detector must be one of {PLATE_DETECTORS}, got {self.plate_detector!r}"
            )
        if self.min_size < 1:
            raise ValueError(f"min size must be >= 1 pixel, got {self.min_size}")
        for name in ("face_threshold", "plate_threshold"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in (0, 1), got {getattr(self, name)}")
        if self.plate_neighbors < 1:
            raise ValueError(f"plate_neighbors must be >= 1, got {self.plate_neighbors}")
        if not 0.0 < self.plate_max_width <= 1.0:
            raise ValueError(f"plate_max_width must be in (0, 1], got {self.plate_max_width}")
        for label, weights in (("face", self.face_weights), ("plate", self.plate_weights)):
            if weights:
                check_weights(weights, label)


@dataclass
class AnonymizerConfig:
    """Everything that decides how a frame is anonymized; saved beside every run's report."""

    detection: DetectorConfig = field(default_factory=DetectorConfig)
    method: str = "cv-inpaint"
    face_grow: float = 0.25
    plate_grow: float = 0.1
    persist: int = 2
    sd_model: str | None = None
    sd_options: dict = field(default_factory=dict)

    def __post_init__(self):
        if isinstance(self.detection, dict):
            self.detection = DetectorConfig(**self.detection)
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        for name in ("face_grow", "plate_grow"):
            if not getattr(self, name) > -0.5:
                raise ValueError(f"{name} must be > -0.5, got {getattr(self, name)}")
        if self.persist < 0:
            raise ValueError(f"persist must be >= 0, got {self.persist}")
        if self.method == "sd-inpaint":
            check_sd_model(self.sd_model)
        steps, size = self.sd_options.get("steps", 1), self.sd_options.get("size", 512)
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        if size < 64 or size % 8:
            raise ValueError(f"sd size must be a multiple of 8 and >= 64, got {size}")
