"""Affine-StableSR: diffusion super-resolution with a compact affine-coupling autoencoder."""

__version__ = "0.0.1"
