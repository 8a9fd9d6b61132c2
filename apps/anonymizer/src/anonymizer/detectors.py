"""Face and licence-plate detectors behind one small interface: ``detect(rgb) -> [Detection]``.

Defaults need no download: faces with RetinaFace and plates with a RetinaFace-style plate network,
both on onnxruntime with models that ship in registry packages (see
:mod:`anonymizer.onnx_detectors`). Options: facenet-pytorch's MTCNN (weights in its wheel), OpenCV's
Haar plate cascade (in opencv-python), and any ultralytics YOLO detection weights
(``--face-weights``, ``--plate-weights``).

References: Zhang et al., "Joint Face Detection and Alignment Using Multitask Cascaded
Convolutional Networks" (MTCNN), arXiv:1604.02878.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from typing import Protocol

import cv2
import numpy as np

from anonymizer.config import FACE_DETECTORS, PLATE_DETECTORS, DetectorConfig, check_weights
from anonymizer.detections import Detection
from anonymizer.onnx_detectors import RetinaFaceDetector, RetinaPlateDetector

__all__ = [
    "CascadePlateDetector",
    "Detector",
    "DetectorConfig",
    "MTCNNFaceDetector",
    "YOLODetector",
    "build_detectors",
    "check_weights",
    "resolve_detection_device",
    # defined in anonymizer.config (which imports nothing heavy), importable from here too
    "FACE_DETECTORS",
    "PLATE_DETECTORS",
]

log = logging.getLogger(__name__)

PLATE_CASCADE = "haarcascade_russian_plate_number.xml"
# Class names in user YOLO weights that count as each of our labels.
LABEL_KEYWORDS = {"face": ("face", "head"), "plate": ("plate", "licen")}


class Detector(Protocol):
    """Finds one class of region in an RGB ``uint8`` image ``[H, W, 3]``."""

    label: str
    name: str

    def detect(self, image: np.ndarray) -> list[Detection]: ...


class MTCNNFaceDetector:
    """facenet-pytorch's MTCNN; ``threshold`` is the last stage's face probability."""

    label = "face"
    name = "mtcnn"

    def __init__(self, threshold: float = 0.9, min_size: int = 16, device: str = "cpu"):
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"face threshold must be in (0, 1), got {threshold}")
        import torch
        from facenet_pytorch import MTCNN

        self.threshold = threshold
        # MTCNN's first stage is a 12-pixel window: smaller faces would need upsampling the frame.
        self.model = MTCNN(
            keep_all=True,
            min_face_size=max(12, int(min_size)),
            thresholds=[0.6, 0.7, threshold],
            post_process=False,
            device=torch.device(device),
        )

    def detect(self, image: np.ndarray) -> list[Detection]:
        import torch

        if min(image.shape[:2]) < self.model.min_face_size:
            return []  # no face of the minimum size fits (and MTCNN fails on such frames)
        with torch.inference_mode():
            boxes, probs = self.model.detect(image)
        if boxes is None:
            return []
        found = []
        height, width = image.shape[:2]
        for box, prob in zip(boxes, probs):
            x0, y0, x1, y1 = np.clip(box, 0, [width, height, width, height])
            if x1 - x0 >= 1 and y1 - y0 >= 1 and prob >= self.threshold:
                found.append(
                    Detection(_int_box(x0, y0, x1, y1), "face", float(prob), source=self.name)
                )
        return found


class CascadePlateDetector:
    """OpenCV's Haar cascade for licence plates. It gives no probability: ``neighbors`` (how many
    overlapping windows must agree) is its threshold, higher meaning fewer, surer boxes. Boxes
    wider than ``max_width`` of the frame are not searched for (window rows and signs fire there)."""

    label = "plate"
    name = "cascade"

    def __init__(
        self,
        neighbors: int = 3,
        min_size: int = 16,
        scale_factor: float = 1.05,
        max_width: float = 0.25,
    ):
        if neighbors < 1:
            raise ValueError(f"plate neighbors must be >= 1, got {neighbors}")
        if not scale_factor > 1.0:
            raise ValueError(f"cascade scale factor must be > 1, got {scale_factor}")
        path = os.path.join(cv2.data.haarcascades, PLATE_CASCADE)
        self.cascade = cv2.CascadeClassifier(path)
        if self.cascade.empty():
            raise RuntimeError(
                f"OpenCV's plate cascade {path} is missing: install opencv-python<5 "
                "(OpenCV 5 wheels ship no Haar cascades)"
            )
        if not 0.0 < max_width <= 1.0:
            raise ValueError(
                f"plate max width must be a fraction of the frame in (0, 1], got {max_width}"
            )
        self.neighbors, self.min_size, self.scale_factor = neighbors, int(min_size), scale_factor
        self.max_width = max_width

    def detect(self, image: np.ndarray) -> list[Detection]:
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        max_w = max(3 * self.min_size, int(self.max_width * image.shape[1]))
        # Plates are about 4.6:1; min_size bounds the plate's height.
        boxes = self.cascade.detectMultiScale(
            gray,
            scaleFactor=self.scale_factor,
            minNeighbors=self.neighbors,
            minSize=(3 * self.min_size, self.min_size),
            maxSize=(max_w, max(self.min_size, max_w // 3)),
        )
        return [
            Detection((int(x), int(y), int(x + w), int(y + h)), "plate", None, source=self.name)
            for x, y, w, h in boxes
        ]


class YOLODetector:
    """Any ultralytics YOLO detection weights (``.pt``, or an exported model ultralytics loads).

    Classes whose name matches the label (``face``/``head`` for faces; ``plate``/``licen...`` for
    plates) are kept; when no class name matches, every class counts as the label (a one-class
    model trained on plates, say).
    """

    name = "yolo"

    def __init__(
        self,
        weights: str | os.PathLike,
        label: str,
        threshold: float = 0.25,
        device: str = "cpu",
        imgsz: int = 1280,
    ):
        if label not in LABEL_KEYWORDS:
            raise ValueError(f"label must be one of {tuple(LABEL_KEYWORDS)}, got {label!r}")
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"{label} threshold must be in (0, 1), got {threshold}")
        weights = check_weights(weights, label)
        os.environ.setdefault("YOLO_OFFLINE", "1")  # no online checks from ultralytics
        try:
            import ultralytics  # noqa: F401
        except ImportError:
            raise RuntimeError(
                'YOLO weights need ultralytics: pip install "anonymizer[yolo]"'
            ) from None
        from app_toolkit.thirdparty import load_yolo_weights

        try:
            self.model = load_yolo_weights(weights, task="detect")
        except ValueError as err:
            raise ValueError(f"--{label}-weights {err}") from None
        self.label, self.threshold, self.imgsz = label, threshold, imgsz
        self.device = str(device)
        self.classes = select_classes(self.model.names, label)

    def detect(self, image: np.ndarray) -> list[Detection]:
        # ultralytics expects BGR numpy arrays, as OpenCV reads them.
        result = self.model.predict(
            np.ascontiguousarray(image[..., ::-1]),
            conf=self.threshold,
            imgsz=self.imgsz,
            device=self.device,
            classes=self.classes,
            verbose=False,
        )[0]
        return detections_from_result(result, self.label, self.classes, self.name)


def select_classes(names: dict[int, str], label: str) -> list[int] | None:
    """Class ids whose name says ``label``; ``None`` (every class) when no name does."""
    keys = LABEL_KEYWORDS[label]
    chosen = [i for i, n in names.items() if any(k in str(n).lower() for k in keys)]
    return chosen or None


def detections_from_result(result, label: str, classes: list[int] | None, source: str):
    """Convert an ultralytics ``Results`` object to our detections."""
    boxes = result.boxes
    if boxes is None or len(boxes) == 0:
        return []
    xyxy = boxes.xyxy.cpu().numpy()
    conf = boxes.conf.cpu().numpy()
    cls = boxes.cls.cpu().numpy().astype(int)
    height, width = result.orig_shape
    found = []
    for (x0, y0, x1, y1), c, k in zip(xyxy, conf, cls):
        if classes is not None and k not in classes:
            continue
        x0, x1 = np.clip([x0, x1], 0, width)
        y0, y1 = np.clip([y0, y1], 0, height)
        if x1 - x0 >= 1 and y1 - y0 >= 1:
            found.append(Detection(_int_box(x0, y0, x1, y1), label, float(c), source=source))
    return found


def uses_torch(config: DetectorConfig) -> bool:
    """Whether a detector of ``config`` is a PyTorch model (MTCNN or YOLO weights)."""
    return bool(
        (config.faces and (config.face_detector == "mtcnn" or config.face_weights))
        or (config.plates and config.plate_weights)
    )


def resolve_detection_device(config: DetectorConfig, torch_models: bool = False) -> str:
    """``config.device`` made concrete, as torch sees the machine
    (:func:`app_toolkit.devices.resolve_device`) when a PyTorch model runs (MTCNN, YOLO weights,
    or ``torch_models``: Stable Diffusion) or a CUDA device is asked for by name. ``cpu``, and
    ``auto`` with only the onnxruntime and OpenCV detectors (the defaults), never import torch:
    ``auto`` is then CUDA when onnxruntime has its CUDA provider."""
    if torch_models or uses_torch(config) or config.device not in ("auto", "cpu"):
        from app_toolkit.devices import resolve_device

        return str(resolve_device(config.device))
    if config.device == "cpu":
        return "cpu"
    from app_toolkit.thirdparty import import_onnxruntime

    cuda = "CUDAExecutionProvider" in import_onnxruntime().get_available_providers()
    return "cuda" if cuda else "cpu"


def build_detectors(config: DetectorConfig) -> list[Detector]:
    """The detectors ``config`` asks for, weights loaded and ready."""
    config = replace(config, device=resolve_detection_device(config))
    detectors: list[Detector] = []
    if config.faces:
        if config.face_weights:
            detectors.append(
                YOLODetector(config.face_weights, "face", config.face_threshold, config.device)
            )
        elif config.face_detector == "retinaface":
            detectors.append(RetinaFaceDetector(config.face_threshold, config.device))
        else:
            detectors.append(
                MTCNNFaceDetector(config.face_threshold, config.min_size, config.device)
            )
    if config.plates:
        if config.plate_weights:
            detectors.append(
                YOLODetector(config.plate_weights, "plate", config.plate_threshold, config.device)
            )
        elif config.plate_detector == "clp":
            detectors.append(RetinaPlateDetector(config.plate_threshold, config.device))
        else:
            detectors.append(
                CascadePlateDetector(
                    config.plate_neighbors, config.min_size, max_width=config.plate_max_width
                )
            )
    return detectors


def _int_box(x0, y0, x1, y1) -> tuple[int, int, int, int]:
    """Round a float box outwards to whole pixels."""
    return int(np.floor(x0)), int(np.floor(y0)), int(np.ceil(x1)), int(np.ceil(y1))
