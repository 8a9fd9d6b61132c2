"""Options several subcommands take."""

from app_toolkit.cli import COMMON, DEVICE

__all__ = ["COMMON", "DEVICE"]
