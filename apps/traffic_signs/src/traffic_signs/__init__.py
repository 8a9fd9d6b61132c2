"""Traffic-sign detection (YOLO) and missing-sign categorisation from scene context."""

__version__ = "0.1.0"
