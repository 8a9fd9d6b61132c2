"""Names and settings the command line offers as choices and defaults, kept free of torch so that
``core-flows --help`` starts fast; the modules that use them import them from here."""

__all__ = [
    "COUPLINGS",
    "LR_SCHEDULES",
    "MODEL_DIR",
    "PAPER_CONFIGS",
    "PRESETS",
    "SAMPLING_PRESETS",
    "SOLVER_NAMES",
]

# flow step designs and couplings of :func:`core_flows.models.build_flow`
PRESETS = ("glow", "cinc", "finc", "inverse_flow", "emerging")
COUPLINGS = ("affine", "quad")

# The papers' configurations (FInC / Glow): image shape, levels L, steps per level K, width 512.
PAPER_CONFIGS = {
    "mnist": {"image_shape": (1, 28, 28), "levels": 2, "steps": 16, "width": 512},
    "cifar10": {"image_shape": (3, 32, 32), "levels": 3, "steps": 32, "width": 512},
    "imagenet32": {"image_shape": (3, 32, 32), "levels": 3, "steps": 48, "width": 512},
    "imagenet64": {"image_shape": (3, 64, 64), "levels": 4, "steps": 48, "width": 512},
}

# the exact inverse backends, in the order of :data:`core_flows.ops.causal_inverse.SOLVERS`
SOLVER_NAMES = ("wavefront", "sequential", "dense", "triton", "published")

# the presets `core-flows bench sampling` compares (the last two pin FInC's inverse backend)
SAMPLING_PRESETS = (*PRESETS, "finc-wavefront", "finc-published")

# learning-rate schedules after the warm-up, and the model folder inside a training run
LR_SCHEDULES = ("constant", "cosine")
MODEL_DIR = "model"
