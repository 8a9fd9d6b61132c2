"""Named errors; both are ``ValueError`` subclasses so callers may catch either."""

from app_toolkit.checkpoint import CheckpointError

__all__ = ["CheckpointError", "NotInvertibleError"]


class NotInvertibleError(ValueError):
    """A transform cannot be inverted as it stands (e.g. a singular corner tap)."""
