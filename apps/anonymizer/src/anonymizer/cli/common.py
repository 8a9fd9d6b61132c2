"""Options shared by several subcommands, and how they become an :class:`AnonymizerConfig`."""

from __future__ import annotations

import argparse

from anonymizer.config import (
    DEFAULT_NEGATIVE,
    DEFAULT_PROMPTS,
    FACE_DETECTORS,
    METHODS,
    PLATE_DETECTORS,
    AnonymizerConfig,
    DetectorConfig,
)
from app_toolkit.cli import COMMON, add_device_option

__all__ = [
    "COMMON",
    "DETECTION",
    "METHOD_HELP",
    "REPLACEMENT",
    "SD",
    "anonymizer_config",
    "detector_config",
]

DETECTION = argparse.ArgumentParser(add_help=False)
group = DETECTION.add_argument_group("detection")
group.add_argument(
    "--classes",
    default="face,plate",
    help="what to find: face, plate or face,plate (default: %(default)s)",
)
group.add_argument(
    "--face-detector",
    choices=FACE_DETECTORS,
    default="retinaface",
    help="retinaface (onnxruntime, finds faces down to ~10 px) or mtcnn (default: %(default)s)",
)
group.add_argument(
    "--plate-detector",
    choices=PLATE_DETECTORS,
    default="clp",
    help="clp (a RetinaFace-style plate network, onnxruntime; masks follow the plate's corners) "
    "or cascade (OpenCV's Haar cascade) (default: %(default)s)",
)
group.add_argument(
    "--face-threshold",
    type=float,
    default=0.9,
    help="minimum face probability (RetinaFace, MTCNN's last stage, or YOLO confidence) "
    "(default: %(default)s)",
)
group.add_argument(
    "--plate-threshold",
    type=float,
    default=0.7,
    help="minimum plate confidence (clp or --plate-weights) (default: %(default)s)",
)
group.add_argument(
    "--plate-neighbors",
    type=int,
    default=3,
    help="OpenCV plate cascade: overlapping hits needed for a plate; lower finds more, with more "
    "false boxes (default: %(default)s)",
)
group.add_argument(
    "--plate-max-width",
    type=float,
    default=0.25,
    help="OpenCV plate cascade: widest plate searched for, as a fraction of the frame width "
    "(default: %(default)s)",
)
group.add_argument(
    "--min-size",
    type=int,
    default=8,
    help="smallest face or plate kept, shorter side in pixels (default: %(default)s)",
)
group.add_argument(
    "--face-weights",
    metavar="PT",
    help="ultralytics YOLO weights to find faces instead of MTCNN (needs anonymizer[yolo])",
)
group.add_argument(
    "--plate-weights",
    metavar="PT",
    help="ultralytics YOLO weights to find plates instead of the OpenCV cascade "
    "(needs anonymizer[yolo])",
)
add_device_option(group)

METHOD_HELP = (
    "what replaces each region: cv-inpaint (OpenCV inpainting, feathered), sd-inpaint "
    "(Stable Diffusion inpainting, needs --sd-model), blur, pixelate or solid"
)
REPLACEMENT = argparse.ArgumentParser(add_help=False)
group = REPLACEMENT.add_argument_group("replacement")
group.add_argument(
    "--method", choices=METHODS, default="cv-inpaint", help=METHOD_HELP + " (default: %(default)s)"
)
group.add_argument(
    "--face-grow",
    type=float,
    default=0.25,
    help="grow each face box by this fraction of its size on every side; negative shrinks "
    "(default: %(default)s)",
)
group.add_argument(
    "--plate-grow",
    type=float,
    default=0.1,
    help="the same for plate boxes (default: %(default)s)",
)

SD = argparse.ArgumentParser(add_help=False)
group = SD.add_argument_group("Stable Diffusion inpainting (--method sd-inpaint)")
group.add_argument(
    "--sd-model",
    metavar="DIR",
    help="local diffusers inpainting pipeline folder (with model_index.json), for --method "
    "sd-inpaint; nothing is downloaded",
)
group.add_argument("--face-prompt", default=DEFAULT_PROMPTS["face"], help="SD prompt for faces")
group.add_argument("--plate-prompt", default=DEFAULT_PROMPTS["plate"], help="SD prompt for plates")
group.add_argument("--negative-prompt", default=DEFAULT_NEGATIVE, help="SD negative prompt")
group.add_argument(
    "--steps", type=int, default=25, help="SD denoising steps (default: %(default)s)"
)
group.add_argument(
    "--guidance", type=float, default=7.5, help="SD guidance scale (default: %(default)s)"
)
group.add_argument(
    "--sd-size",
    type=int,
    default=512,
    help="SD works on a square window around each region, resized to this many pixels "
    "(default: %(default)s)",
)
group.add_argument("--seed", type=int, default=0, help="SD random seed (default: %(default)s)")


def detector_config(args: argparse.Namespace) -> DetectorConfig:
    classes = {c.strip() for c in args.classes.split(",") if c.strip()}
    unknown = classes - {"face", "plate"}
    if unknown or not classes:
        raise ValueError(f"--classes must list face and/or plate, got {args.classes!r}")
    return DetectorConfig(
        faces="face" in classes,
        plates="plate" in classes,
        face_detector=args.face_detector,
        plate_detector=args.plate_detector,
        face_threshold=args.face_threshold,
        plate_threshold=args.plate_threshold,
        plate_neighbors=args.plate_neighbors,
        plate_max_width=args.plate_max_width,
        min_size=args.min_size,
        face_weights=args.face_weights,
        plate_weights=args.plate_weights,
        device=args.device,
    )


def anonymizer_config(args: argparse.Namespace, persist: int = 0) -> AnonymizerConfig:
    sd_options = {}
    if args.method == "sd-inpaint" or args.sd_model:
        sd_options = {
            "steps": args.steps,
            "guidance": args.guidance,
            "size": args.sd_size,
            "prompts": {"face": args.face_prompt, "plate": args.plate_prompt},
            "negative_prompt": args.negative_prompt,
            "seed": args.seed,
        }
    detection = (
        detector_config(args) if hasattr(args, "classes") else DetectorConfig(device=args.device)
    )
    return AnonymizerConfig(
        detection=detection,
        method=args.method,
        face_grow=getattr(args, "face_grow", 0.25),
        plate_grow=getattr(args, "plate_grow", 0.1),
        persist=persist,
        sd_model=args.sd_model,
        sd_options=sd_options,
    )
