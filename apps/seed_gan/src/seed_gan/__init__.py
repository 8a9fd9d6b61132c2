"""Seed purity grading with a class-conditional GAN for rare defect classes."""

__version__ = "0.0.1"
