"""Privacy for driving datasets: faces and licence plates found and replaced by inpainting."""

__version__ = "0.0.1"
