"""Restoration of photographed artworks: one diffusion model for many degradations."""

__version__ = "0.0.1"
