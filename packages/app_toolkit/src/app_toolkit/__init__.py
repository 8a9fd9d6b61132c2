"""What every command-line tool of the monorepo shares, and nothing about flows.

- :mod:`app_toolkit.cli`: one ``main`` factory for a command with subcommands, the shared options
  (``-q``, ``--device``), the ``env`` subcommand, one-line errors.
- :mod:`app_toolkit.devices`: ``--device`` resolution and the environment report.
- :mod:`app_toolkit.files`: atomic writes, JSON and CSV reports.
- :mod:`app_toolkit.checkpoint`: ``save_pretrained`` / ``from_pretrained`` (config + safetensors).
- :mod:`app_toolkit.media`: finding, reading and writing images and videos (extra ``media``).
- :mod:`app_toolkit.plots`: image grids and PNG plots (extra ``plots``).

Importing the package loads none of the optional dependencies.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
