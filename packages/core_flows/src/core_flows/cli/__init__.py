"""``core-flows``: one command with subcommands; each subcommand module has add_parser() and run().

The parsers are built from light modules only (choices and defaults from
:mod:`core_flows.constants`); torch and the flow code are imported inside each ``run``, so that
``--help`` and ``--version`` start fast and a subcommand loads only what it uses.
"""

from app_toolkit.cli import make_main
from core_flows import __version__
from core_flows.cli import bench, evaluate, info, interpolate, sample, train

__all__ = ["main"]

main = make_main(
    "core-flows",
    "Normalizing flows with exactly invertible k×k convolutions (CInC, FInC, "
    "Inverse-Flow): train, sample, evaluate and benchmark them.",
    __version__,
    (train, sample, evaluate, interpolate, info, bench),
)
