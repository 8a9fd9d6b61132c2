"""Named errors; both are ``ValueError`` subclasses so callers may catch either."""

__all__ = ["CheckpointError", "NotInvertibleError"]


class NotInvertibleError(ValueError):
    """A transform cannot be inverted as it stands (e.g. a singular corner tap)."""


class CheckpointError(ValueError):
    """A checkpoint folder is missing, incomplete, corrupt or belongs to another class."""
