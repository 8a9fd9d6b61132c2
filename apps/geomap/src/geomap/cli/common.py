"""Options every subcommand takes."""

import argparse

from app_toolkit.cli import COMMON

__all__ = ["COMMON", "int_list", "size"]


def int_list(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None


MAX_SIDE = 20_000  # pixels: a synthetic scene of 20,000² × 10 bands is already 16 GB


def size(text: str) -> tuple[int, int]:
    try:
        height, width = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be HEIGHTxWIDTH, got {text!r}") from None
    if not (8 <= height <= MAX_SIDE and 8 <= width <= MAX_SIDE):
        raise argparse.ArgumentTypeError(f"each side must be in [8, {MAX_SIDE}], got {text}")
    return height, width
