"""Public names of a package imported on first use (PEP 562), so that importing the package,
and a command line's ``--help``, loads none of the heavy libraries its modules need::

    __getattr__, __dir__ = lazy_names(__name__, {"GeoMapModel": "geomap.model"})
    __all__ = ["GeoMapModel"]
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable

__all__ = ["lazy_names"]


def lazy_names(package: str, where: dict[str, str]) -> tuple[Callable, Callable]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` whose name → module table is ``where``.
    A name that is the module's own last part (a submodule) stands for the module itself; any
    other submodule is imported when first named (``package.pipeline``), as an eager
    ``__init__`` would have made it available."""

    def __getattr__(name: str):
        if name not in where:
            try:
                module = importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as err:
                if err.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
            setattr(sys.modules[package], name, module)
            return module
        module = importlib.import_module(where[name])
        value = module if module.__name__ == f"{package}.{name}" else getattr(module, name)
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    def __dir__():
        return sorted({*vars(sys.modules[package]), *where})

    return __getattr__, __dir__
